"""`robopref annotators add|list|revoke` and the demo's browser accounts."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from robopref.cli import app
from robopref.pairs import PairsConfig, select_calibration_sets
from robopref.store import (
    Role,
    Store,
    annotator_for_token,
    assignments_frame,
    create_batch,
    open_store,
    sync_trajectories,
)


@pytest.fixture
def db(tmp_path: Path, tiny_pool: object) -> str:
    """A SQLite store with a 12-trajectory pool synced and two calibration sets of 4."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    manifest = tiny_pool(n=12, frame_size=None).manifest  # type: ignore[operator]
    store = open_store(url)
    sync_trajectories(store, manifest)
    for calibration in select_calibration_sets(
            manifest, PairsConfig(calibration_size=4, calibration_sets=2)):
        create_batch(store, calibration.batch)
    store.dispose()
    return url


def _store(url: str) -> Store:
    return open_store(url, upgrade=False, existing=True)


def _token(output: str) -> str:
    return output.split(": token ", 1)[1].split()[0]


def test_add_prints_a_working_token_once_and_assigns_the_first_set(db: str) -> None:
    result = CliRunner().invoke(app, ["annotators", "add", "alice", "--db", db])
    assert result.exit_code == 0, result.output
    assert "added annotator alice" in result.output
    assert "first calibration set assigned: cal1-" in result.output
    store = _store(db)
    assert annotator_for_token(store, _token(result.output)) == ("alice", Role.ANNOTATOR)
    assigned = assignments_frame(store).query("annotator_id == 'alice'")
    assert len(assigned) == 4 and assigned["batch_id"].str.startswith("cal1-").all()
    store.dispose()


def test_an_admin_gets_no_calibration(db: str) -> None:
    result = CliRunner().invoke(app, ["annotators", "add", "lead", "--admin", "--db", db])
    assert result.exit_code == 0 and "added admin lead" in result.output
    assert "calibration" not in result.output
    store = _store(db)
    assert annotator_for_token(store, _token(result.output)) == ("lead", Role.ADMIN)
    assert assignments_frame(store).empty
    store.dispose()


def test_an_existing_name_needs_reissue_and_keeps_its_set(db: str) -> None:
    runner = CliRunner()
    first = _token(runner.invoke(app, ["annotators", "add", "alice", "--db", db]).output)
    again = runner.invoke(app, ["annotators", "add", "alice", "--db", db])
    assert again.exit_code == 2 and "already exists" in again.output
    assert "annotator_id" in again.output
    role = runner.invoke(app, ["annotators", "add", "alice", "--admin", "--reissue", "--db", db])
    assert role.exit_code == 2 and "role" in role.output
    new = runner.invoke(app, ["annotators", "add", "alice", "--reissue", "--db", db])
    assert new.exit_code == 0 and "new token for annotator alice" in new.output
    store = _store(db)
    assert annotator_for_token(store, first) is None
    assert annotator_for_token(store, _token(new.output)) == ("alice", Role.ANNOTATOR)
    assert len(assignments_frame(store).query("annotator_id == 'alice'")) == 4  # not doubled
    store.dispose()


def test_list_and_revoke(db: str) -> None:
    runner = CliRunner()
    token = _token(runner.invoke(app, ["annotators", "add", "alice", "--db", db]).output)
    runner.invoke(app, ["annotators", "add", "lead", "--admin", "--db", db])
    listed = runner.invoke(app, ["annotators", "list", "--db", db])
    assert listed.exit_code == 0, listed.output
    line = next(row for row in listed.output.splitlines() if row.startswith("alice"))
    assert line.split() == ["alice", "annotator", "yes", "no", "no", "calibration", "0/4"]
    assert "2 accounts" in listed.output
    revoked = runner.invoke(app, ["annotators", "revoke", "alice", "--db", db])
    assert revoked.exit_code == 0 and "revoked alice" in revoked.output
    store = _store(db)
    assert annotator_for_token(store, token) is None
    store.dispose()
    assert runner.invoke(app, ["annotators", "revoke", "nobody", "--db", db]).exit_code == 2


@pytest.mark.parametrize("verb", [["add", "x"], ["list"], ["revoke", "x"]])
def test_an_unknown_db_file_is_exit_2_and_not_created(tmp_path: Path, verb: list[str]) -> None:
    missing = tmp_path / "nope.db"
    result = CliRunner().invoke(app, ["annotators", *verb, "--db", f"sqlite:///{missing}"])
    assert result.exit_code == 2 and "no store there" in result.output
    assert not missing.exists()


def test_a_bad_name_is_exit_2_naming_the_field(db: str) -> None:
    result = CliRunner().invoke(app, ["annotators", "add", "a\x00b", "--db", db])
    assert result.exit_code == 2 and "annotator_id" in result.output


def test_the_demo_accounts_sign_in_and_you_are_served_calibration(db: str) -> None:
    from robopref.campaign import Phase, phase_of
    from robopref.demo import DEMO_ADMIN, DEMO_ANNOTATOR, invite_demo_accounts

    accounts = invite_demo_accounts(db)
    store = _store(db)
    assert annotator_for_token(store, accounts.admin_token) == (DEMO_ADMIN, Role.ADMIN)
    assert annotator_for_token(store, accounts.annotator_token) == (DEMO_ANNOTATOR,
                                                                   Role.ANNOTATOR)
    assert accounts.calibration_batch_id is not None
    assert phase_of(store, DEMO_ANNOTATOR) is Phase.CALIBRATION
    store.dispose()
    again = invite_demo_accounts(db)  # a rerun re-tokens, assigns nothing twice
    assert again.annotator_token != accounts.annotator_token
    assert again.calibration_batch_id is None

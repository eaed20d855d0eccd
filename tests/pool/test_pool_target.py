"""Pool targets obey the one output rule, and transactions clear killed runs' leftovers."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import numpy as np
import pytest
from tests.fuzz.harness import leftovers, snapshot
from typer.testing import CliRunner

import robopref.pool as rp
from robopref.cli import app
from robopref.errors import InputError
from robopref.outputs import MARKER, STAGING_LOCK, held_staging, mark_output_dir, output_kind
from robopref.pool.pool import STAGING
from robopref.testing import synthetic_trajectory


def _trajs(prefix: str, n: int = 2) -> list[rp.Trajectory]:
    rng = np.random.default_rng(0)
    return [
        synthetic_trajectory(f"{prefix}{i}", quality=q, rng=rng, n_steps=8, frame_size=None)
        for i, q in enumerate(np.linspace(0, 1, n))
    ]


def _failing(trajectories: list[rp.Trajectory]):
    yield from trajectories
    raise RuntimeError("crash while generating")


def test_a_folder_of_other_things_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "todo.txt").write_text("buy milk\n")
    before = snapshot(notes)
    with pytest.raises(InputError, match="not empty") as info:
        rp.append_to_pool(notes, _trajs("t"))
    assert info.value.field == "POOL" and info.value.path == str(notes)
    assert snapshot(notes) == before


def test_a_file_and_another_verbs_output_are_refused(tmp_path: Path) -> None:
    (tmp_path / "pool.txt").write_text("not a folder\n")
    with pytest.raises(InputError, match="is a file"):
        rp.append_to_pool(tmp_path / "pool.txt", _trajs("t"))
    model = tmp_path / "model"
    mark_output_dir(model, "model")
    with pytest.raises(InputError, match="model output"):
        rp.append_to_pool(model, _trajs("t"))
    assert sorted(p.name for p in model.iterdir()) == [MARKER]


def test_absent_and_empty_folders_become_marked_pools(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    for target in (tmp_path / "new" / "nested", tmp_path / "empty"):
        pool = rp.append_to_pool(target, _trajs("t"))
        assert len(pool) == 2 and output_kind(target) == "pool"
        assert not (target / STAGING).exists()


def test_a_pool_written_before_markers_is_recognised_and_marked(tmp_path: Path) -> None:
    root = tmp_path / "legacy"
    rp.append_to_pool(root, _trajs("a"))
    (root / MARKER).unlink()
    pool = rp.append_to_pool(root, _trajs("b"))
    assert len(pool) == 4 and output_kind(root) == "pool"


def test_a_failed_first_transaction_leaves_nothing_behind(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError):
        rp.append_to_pool(tmp_path / "a" / "b" / "pool", _failing(_trajs("t")))
    assert not (tmp_path / "a").exists()
    (tmp_path / "empty").mkdir()
    with pytest.raises(RuntimeError):
        rp.append_to_pool(tmp_path / "empty", _failing(_trajs("t")))
    assert list((tmp_path / "empty").iterdir()) == []


def test_a_failed_transaction_leaves_an_existing_pool_byte_for_byte(tmp_path: Path) -> None:
    root = tmp_path / "pool"
    rp.append_to_pool(root, _trajs("old"))
    before = snapshot(root)
    with pytest.raises(RuntimeError):
        rp.append_to_pool(root, _failing(_trajs("new")))
    with pytest.raises(InputError, match="already in pool"):
        rp.append_to_pool(root, _trajs("old"))
    assert snapshot(root) == before


def test_a_killed_runs_staging_and_temp_files_are_cleared_by_the_next_run(tmp_path: Path) -> None:
    root = tmp_path / "pool"
    rp.append_to_pool(root, _trajs("old"))
    stale = root / STAGING / uuid.uuid4().hex
    (stale / "old0").mkdir(parents=True)
    (stale / STAGING_LOCK).touch()  # its writer died: nobody holds the lock
    (root / f".manifest.parquet.{uuid.uuid4().hex}.tmp").write_bytes(b"PAR1 half")
    (root / f".pool.json.{uuid.uuid4().hex}.tmp").write_text("{")
    assert len(rp.open(root)) == 2  # readers ignore leftovers
    rp.append_to_pool(root, _trajs("new"))
    assert leftovers(root) == []


def test_a_live_transactions_staging_survives_another_transaction(tmp_path: Path) -> None:
    root = tmp_path / "pool"
    rp.append_to_pool(root, _trajs("old"))
    with rp.pool_transaction(root) as live:
        live.add(_trajs("live", 1)[0])
        rp.append_to_pool(root, _trajs("other"))  # starts, clears stale staging, commits
        assert (live.staging / "live0" / "arrays.npz").is_file()
    pool = rp.open(root)
    assert {"live0", "other0", "old0"} <= set(pool.manifest["trajectory_id"])
    assert leftovers(root) == []


def test_held_staging_is_not_removed_while_its_writer_lives(tmp_path: Path) -> None:
    from robopref.outputs import remove_stale_staging

    with held_staging(tmp_path / "live"):
        (tmp_path / "dead").mkdir()
        (tmp_path / "dead" / STAGING_LOCK).touch()
        removed = remove_stale_staging(tmp_path)
        assert [p.name for p in removed] == ["dead"] and (tmp_path / "live").is_dir()


def test_orphan_trajectory_folders_of_a_killed_commit_are_replaced(tmp_path: Path) -> None:
    root = tmp_path / "pool"
    rp.append_to_pool(root, _trajs("old"))
    orphan = root / "trajectories" / "new0"
    orphan.mkdir()
    (orphan / "meta.json").write_text("{half")  # moved in, then killed before the manifest swap
    assert len(rp.open(root)) == 2
    pool = rp.append_to_pool(root, _trajs("new"))
    assert pool["new0"].n_steps == 8


# --- through the CLI ------------------------------------------------------------------------


def _npz_source(folder: Path) -> Path:
    folder.mkdir()
    rng = np.random.default_rng(0)
    n = 6
    np.savez(
        folder / "ep0.npz",
        state=rng.normal(size=(n, 4)).astype(np.float32),
        action=rng.normal(size=(n, 2)).astype(np.float32),
        ee_pos=rng.normal(size=(n, 3)).astype(np.float32),
        gripper=rng.uniform(0, 1, n).astype(np.float32),
    )
    (folder / "dataset.json").write_text(json.dumps({"task": "stack", "fps": 10}))
    return folder


@pytest.mark.parametrize("target", ["notes", "file"])
@pytest.mark.parametrize("verb", ["generate", "ingest"])
def test_cli_pool_targets_refuse_a_non_pool_and_create_nothing(
    tmp_path: Path, verb: str, target: str
) -> None:
    source = _npz_source(tmp_path / "src")
    out = tmp_path / target
    if target == "notes":
        out.mkdir()
        (out / "todo.txt").write_text("keep me\n")
    else:
        out.write_text("a file\n")
    before = snapshot(tmp_path)
    args = (
        ["pool", "generate", str(out), "--task", "reach-v3", "--no-frames", "--checkpoints", "0"]
        if verb == "generate"
        else ["pool", "ingest", "npz", str(source), str(out)]
    )
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert f"error: {out}: {'OUT' if verb == 'generate' else 'POOL'}:" in result.output
    assert snapshot(tmp_path) == before


def test_cli_ingest_into_an_absent_folder_creates_a_marked_pool(tmp_path: Path) -> None:
    source = _npz_source(tmp_path / "src")
    result = CliRunner().invoke(app, ["pool", "ingest", "npz", str(source), str(tmp_path / "p")])
    assert result.exit_code == 0, result.output
    assert output_kind(tmp_path / "p") == "pool" and len(rp.open(tmp_path / "p")) == 1
    assert not (tmp_path / "p" / STAGING).exists()

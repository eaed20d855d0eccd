"""`robopref campaign run`: the policy loop from the command line, its resume and refusals."""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

import pytest
from tests.policy.conftest import TASK, TINY
from typer.testing import CliRunner

from robopref.cli import app
from robopref.outputs import mark_output_dir
from robopref.pool.generate import generate_pool
from robopref.pool.pool import Pool, open_pool

pytestmark = pytest.mark.sim

RUN_YAML = """\
candidates: 2
train_placements: 3
test_placements: 3
steps: 20
epochs: 3
ensemble_size: 1
max_steps: 40
"""


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Pool:
    return generate_pool(TINY, tmp_path_factory.mktemp("run") / "pool")


def _tiers(pool: Pool) -> list[str]:
    return sorted(set(open_pool(pool.root).manifest["source"].astype(str)))


def test_run_reports_every_round_and_resumes(pool: Pool, tmp_path: Path) -> None:
    (tmp_path / "run.yaml").write_text(RUN_YAML)
    out = tmp_path / "run"
    command = [
        "campaign", "run", str(pool.root), "--task", TASK, "--out", str(out), "--rounds", "1",
        "--labels", "20", "--labels-per-round", "10", "--reference-checkpoint", "2",
        "--min-std", "0.05", "--workers", "2", "--config", str(tmp_path / "run.yaml"),
    ]  # fmt: skip
    before = _tiers(pool)
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 0, result.output
    assert f"{TASK} round 0: 20 labels" in result.output and f"{TASK} round 1:" in result.output
    grown = _tiers(pool)
    assert len(grown) == len(before) + 1  # round 0's rollouts; the last round adds none
    report = json.loads((out / "report.json").read_text())
    assert [row["round"] for row in report["tasks"][TASK]] == [0, 1]
    assert report["settings"]["labels"] == 20 and report["settings"]["min_std"] == 0.05
    html = (out / "report.html").read_text()
    assert "round 0" in html and "round 1" in html and "data:image/png;base64," in html
    assert (out / TASK / "round-01" / "round.json").is_file()

    again = CliRunner().invoke(app, command)
    assert again.exit_code == 0, again.output
    assert again.output.count("(finished earlier)") == 2 and _tiers(pool) == grown

    other = CliRunner().invoke(app, [*command[:-2], "--epsilon", "0.3"])
    assert other.exit_code == 2 and "loop.json" in other.output and _tiers(pool) == grown


def test_refusals_exit_2_naming_the_option(pool: Pool, tmp_path: Path) -> None:
    runner = CliRunner()
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "mine.txt").write_text("keep")
    used = runner.invoke(app, ["campaign", "run", str(pool.root), "--out", str(notes)])
    assert used.exit_code == 2 and "--out" in used.output
    assert [p.name for p in notes.iterdir()] == ["mine.txt"]
    out = tmp_path / "x"
    missing = runner.invoke(app, [
        "campaign", "run", str(pool.root), "--out", str(out), "--reference-checkpoint", "9",
    ])  # fmt: skip
    assert missing.exit_code == 2 and "--reference-checkpoint" in missing.output
    task = runner.invoke(app, ["campaign", "run", str(pool.root), "--out", str(out), "--task", "x"])
    assert task.exit_code == 2 and "--task" in task.output
    bad = runner.invoke(
        app, ["campaign", "run", str(pool.root), "--out", str(out), "--rounds", "0"]
    )
    assert bad.exit_code == 2 and "rounds" in bad.output
    assert not out.exists()
    busy = tmp_path / "busy"
    mark_output_dir(busy, "policy-campaign")
    handle = os.open(busy / ".campaign-run.lock", os.O_CREAT | os.O_RDWR)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)  # a live run holds it
        held = runner.invoke(app, ["campaign", "run", str(pool.root), "--out", str(busy)])
    finally:
        os.close(handle)
    assert held.exit_code == 2 and "another" in held.output and "--out" in held.output

"""`robopref campaign simulate --strategy`: the loop from the command line, and its refusals."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from robopref.cli import app

LOOP_YAML = """\
budget: 150
bootstrap: 150
annotators: 4
roster: "stochastic:3,mistake:1"
ensemble_size: 1
epochs: 10
test_pairs: 100
"""


def test_strategy_runs_the_loop_and_writes_its_curve(tmp_path: Path, tiny_pool) -> None:  # type: ignore[no-untyped-def]
    pool = tiny_pool(n=30, frame_size=None)
    (tmp_path / "loop.yaml").write_text(LOOP_YAML)
    out = tmp_path / "loop"
    result = CliRunner().invoke(app, [
        "campaign", "simulate", str(pool.root), "--strategy", "stratified", "--out", str(out),
        "--config", str(tmp_path / "loop.yaml"),
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "round 0:" in result.output and "held-out accuracy" in result.output
    rounds = pd.read_csv(out / "rounds.csv")
    assert rounds["strategy"].tolist() == ["stratified"] and rounds["human_labels"].iloc[0] <= 150
    assert (out / "curve.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "curve.csv").is_file() and (out / "store.db").is_file()


def test_refusals_exit_2_naming_the_field(tmp_path: Path, tiny_pool) -> None:  # type: ignore[no-untyped-def]
    pool = tiny_pool(n=12, frame_size=None)
    runner = CliRunner()
    budget_alone = runner.invoke(app, ["campaign", "simulate", str(pool.root), "--budget", "10"])
    assert budget_alone.exit_code == 2 and "--budget" in budget_alone.output
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "mine.txt").write_text("keep")
    used = runner.invoke(app, [
        "campaign", "simulate", str(pool.root), "--strategy", "random",
        "--out", str(tmp_path / "notes"),
    ])  # fmt: skip
    assert used.exit_code == 2 and "--out" in used.output and "campaign" not in used.output
    assert [p.name for p in (tmp_path / "notes").iterdir()] == ["mine.txt"]
    (tmp_path / "bad.yaml").write_text("budget: 10\nbootstrap: 100\n")
    bad = runner.invoke(app, [
        "campaign", "simulate", str(pool.root), "--strategy", "random",
        "--out", str(tmp_path / "x"), "--config", str(tmp_path / "bad.yaml"),
    ])  # fmt: skip
    assert bad.exit_code == 2 and "budget" in bad.output
    assert not (tmp_path / "x").exists()

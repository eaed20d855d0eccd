"""`robopref validate` through Typer's CliRunner: exit codes, summary line, errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer
from typer.testing import CliRunner

from robopref.cli import _Verbs
from robopref.cli.validate import validate
from robopref.pool import Pool

app = typer.Typer(cls=_Verbs)


@app.callback()
def _group() -> None:
    """Keeps the verb a subcommand, as in the real app."""


app.command()(validate)


def test_validate_with_rewards_and_test_pairs_exits_0_with_a_summary(
    pool_without_frames: Pool, make_pairs: object, tmp_path: Path
) -> None:
    manifest = pool_without_frames.manifest
    pd.DataFrame(
        {"trajectory_id": manifest["trajectory_id"], "reward": manifest["n_steps"]}
    ).to_parquet(tmp_path / "rewards.parquet")
    make_pairs(pool_without_frames).to_parquet(tmp_path / "test.parquet")  # type: ignore[operator]
    out = tmp_path / "v"
    result = CliRunner().invoke(
        app,
        [
            "validate",
            str(pool_without_frames.root),
            "--rewards",
            str(tmp_path / "rewards.parquet"),
            "--test-pairs",
            str(tmp_path / "test.parquet"),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "validated 24 trajectories, 40 test pairs" in result.output
    assert "flag: length" in result.output
    assert (out / "report.html").is_file()


def test_missing_pairs_file_exits_2_naming_the_file(
    pool_without_frames: Pool, tmp_path: Path
) -> None:
    manifest = pool_without_frames.manifest
    pd.DataFrame({"trajectory_id": manifest["trajectory_id"], "reward": 0.0}).to_parquet(
        tmp_path / "rewards.parquet"
    )
    result = CliRunner().invoke(
        app,
        [
            "validate",
            str(pool_without_frames.root),
            "--rewards",
            str(tmp_path / "rewards.parquet"),
            "--test-pairs",
            str(tmp_path / "absent.parquet"),
            "--out",
            str(tmp_path / "v"),
        ],
    )
    assert result.exit_code == 2
    assert "absent.parquet: preferences: not found" in result.output


def test_neither_model_nor_rewards_exits_2(pool_without_frames: Pool, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["validate", str(pool_without_frames.root)])
    assert result.exit_code == 2 and "model" in result.output

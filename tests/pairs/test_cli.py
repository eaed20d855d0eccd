from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import typer
from tests.pairs.conftest import write_manifest
from typer.testing import CliRunner

from robopref.cli import _Verbs
from robopref.cli.pairs import pairs
from robopref.pairs import PAIR_COLUMNS

app = typer.Typer(cls=_Verbs)
app.command()(pairs)
app.command(name="noop")(lambda: None)  # two commands, so the verb name is required
runner = CliRunner()


def test_pairs_writes_batches_and_a_summary_line(manifest: pd.DataFrame, tmp_path: Path) -> None:
    source = write_manifest(manifest, tmp_path / "manifest.parquet")
    out = tmp_path / "batches"
    result = runner.invoke(
        app,
        [
            "pairs",
            str(source),
            str(out),
            "--batch-size",
            "200",
            "--annotators",
            "6",
            "--calibration",
            "--ranking-sets",
            "3",
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1].startswith("wrote ")
    frame = pq.read_table(out / "pairs.parquet").to_pandas()
    assert list(frame.columns) == list(PAIR_COLUMNS)
    assert set(frame["kind"]) == {"regular", "gold", "duplicate", "calibration"}
    assignments = pq.read_table(out / "assignments.parquet").to_pandas()
    assert set(assignments["annotator_id"]) == {f"ann-{i:02d}" for i in range(1, 7)}
    batches = json.loads((out / "batches.json").read_text())
    assert [b["kind"] for b in batches] == ["production", "calibration", "calibration", "ranking"]
    assert len(batches[-1]["ranking_sets"]) == 3
    assert json.loads((out / "config.json").read_text())["config"]["batch_size"] == 200


def test_rubric_is_asked_on_the_production_batch_only(
    manifest: pd.DataFrame, tmp_path: Path
) -> None:
    source = write_manifest(manifest, tmp_path / "manifest.parquet")
    args = ["pairs", str(source), str(tmp_path / "out"), "--batch-size", "60", "--calibration",
            "--rubric"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    written = json.loads((tmp_path / "out" / "batches.json").read_text())
    assert [(b["kind"], b["rubric"]) for b in written] == [
        ("production", True), ("calibration", False), ("calibration", False)]


def test_pairs_on_a_too_small_pool_exits_2_naming_the_field(
    manifest: pd.DataFrame, tmp_path: Path
) -> None:
    source = write_manifest(manifest.head(20), tmp_path / "manifest.parquet")
    result = runner.invoke(app, ["pairs", str(source), str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "quartile" in result.output and str(source) in result.output
    assert not (tmp_path / "out").exists()


def test_a_manifest_file_gets_the_pools_schema_check(
    manifest: pd.DataFrame, tmp_path: Path
) -> None:
    bad = manifest.assign(quartile=manifest["quartile"].where(manifest.index != 3, 7))
    source = write_manifest(bad, tmp_path / "manifest.parquet")
    result = runner.invoke(app, ["pairs", str(source), str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert str(source) in result.output and "quartile" in result.output
    partial = tmp_path / "partial.parquet"
    manifest.to_parquet(partial)  # metric columns only: not a manifest
    result = runner.invoke(app, ["pairs", str(partial), str(tmp_path / "out")])
    assert result.exit_code == 2 and "env_id" in result.output, result.output
    assert not (tmp_path / "out").exists()


def test_pairs_on_a_missing_pool_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["pairs", str(tmp_path / "nothing"), str(tmp_path / "out")])
    assert result.exit_code == 2 and "manifest" in result.output


def test_pairs_help_has_an_example() -> None:
    result = runner.invoke(app, ["pairs", "--help"])
    assert result.exit_code == 0 and "Example: robopref pairs" in result.output

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from robopref.cli import _Verbs
from robopref.cli.qa import qa

from .conftest import Planted

app = typer.Typer(cls=_Verbs)
app.command()(qa)
app.command(name="noop")(lambda: None)
runner = CliRunner()


def test_qa_prints_the_report_and_writes_files(planted: Planted, tmp_path: Path) -> None:
    planted.annotations.to_parquet(tmp_path / "annotations.parquet")
    planted.pairs.to_parquet(tmp_path / "pairs.parquet")
    out = tmp_path / "qa"
    result = runner.invoke(
        app,
        [
            "qa",
            str(tmp_path / "annotations.parquet"),
            str(tmp_path / "pairs.parquet"),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Krippendorff's alpha" in result.output and "speeder" in result.output
    assert result.output.strip().splitlines()[-1].startswith("qa: 1950 annotations, alpha ")
    assert {p.name for p in out.iterdir()} >= {
        "report.json",
        "report.html",
        "preferences.parquet",
        "preferences.jsonl",
    }


def test_qa_on_a_bad_file_exits_2_naming_it(planted: Planted, tmp_path: Path) -> None:
    planted.annotations.drop(columns="preference").to_parquet(tmp_path / "annotations.parquet")
    planted.pairs.to_parquet(tmp_path / "pairs.parquet")
    result = runner.invoke(
        app, ["qa", str(tmp_path / "annotations.parquet"), str(tmp_path / "pairs.parquet")]
    )
    assert result.exit_code == 2 and "preference" in result.output
    missing = runner.invoke(
        app, ["qa", str(tmp_path / "none.parquet"), str(tmp_path / "pairs.parquet")]
    )
    assert missing.exit_code == 2 and "none.parquet" in missing.output

"""`robopref release` through Typer's CliRunner: exit codes, summary line, errors."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from robopref.cli import _Verbs
from robopref.cli.release import release

from .conftest import Trained

app = typer.Typer(cls=_Verbs)


@app.callback()
def _group() -> None:
    """Keeps the verb a subcommand, as in the real app."""


app.command()(release)


def test_release_without_a_model_exits_0_with_a_summary(trained: Trained, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "release",
            str(trained.preferences),
            str(trained.pool.root),
            "--out",
            str(tmp_path),
            "--name",
            "cli",
            "--version",
            "2.0",
            "--qa",
            str(trained.qa_report.parent),
            "--annotations",
            str(trained.annotations),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "robopref-release-cli-2.0.tar.gz" in result.output
    assert "missing: validation report, reward model" in result.output
    assert (tmp_path / "robopref-release-cli-2.0" / "SHA256SUMS").is_file()


def test_bad_version_and_missing_model_exit_2(trained: Trained, tmp_path: Path) -> None:
    base = ["release", str(trained.preferences), str(trained.pool.root), "--out", str(tmp_path)]
    result = CliRunner().invoke(app, [*base, "--version", "latest!"])
    assert result.exit_code == 2 and "version" in result.output
    result = CliRunner().invoke(app, [*base, "--model", str(tmp_path / "nomodel")])
    assert result.exit_code == 2 and "config.json" in result.output


def test_annotations_file_and_store_together_exit_2(trained: Trained, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "release",
            str(trained.preferences),
            str(trained.pool.root),
            "--out",
            str(tmp_path),
            "--annotations",
            str(trained.annotations),
            "--db",
            "sqlite:///x.db",
        ],
    )
    assert result.exit_code == 2 and "db" in result.output

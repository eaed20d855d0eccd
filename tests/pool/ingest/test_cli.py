"""`robopref pool ingest` through Typer's CliRunner: exit codes, summary line, messages."""

from __future__ import annotations

import pyarrow.parquet as pq
from typer.testing import CliRunner

from robopref.cli import app

from .conftest import LEROBOT_DATA

runner = CliRunner()


def _flat(output: str) -> str:
    """Output with line breaks (Rich wraps long paths at 80 columns) as single spaces."""
    return " ".join(output.split())


def test_ingest_prints_the_summary_line(tmp_path):
    pool = tmp_path / "pool"
    result = runner.invoke(app, ["pool", "ingest", "lerobot", str(LEROBOT_DATA / "v30"), str(pool)])
    assert result.exit_code == 0, result.output
    assert _flat(result.output).endswith(f"pool {pool}: imported 3, skipped 0")


def test_malformed_episode_exits_2_naming_file_and_field_and_skip_bad_reports_it(
    lerobot_copy, tmp_path
):
    source = lerobot_copy("v21")
    path = source / "data" / "chunk-000" / "episode_000001.parquet"
    pq.write_table(pq.read_table(path).drop_columns(["action"]), path)
    args = ["pool", "ingest", "lerobot", str(source), str(tmp_path / "pool")]
    args += ["--effector-fallback", "state"]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "episode_000001.parquet" in result.output and "action" in result.output
    assert not (tmp_path / "pool").exists()
    result = runner.invoke(app, [*args, "--skip-bad"])
    assert result.exit_code == 0, result.output
    assert _flat(result.output).endswith(f"pool {tmp_path / 'pool'}: imported 2, skipped 1")
    assert result.output.startswith("skipped 1:") or "\nskipped 1:" in result.output


def test_bad_option_value_exits_2(tmp_path):
    args = ["pool", "ingest", "lerobot", str(LEROBOT_DATA / "v21"), str(tmp_path / "p")]
    result = runner.invoke(app, [*args, "--effector-fallback", "guess"])
    assert result.exit_code == 2 and "effector_fallback" in result.output

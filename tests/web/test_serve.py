"""`robopref serve`: --help, bad input, and migrations once before uvicorn starts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from robopref.cli import app


def test_help_has_an_example() -> None:
    result = CliRunner().invoke(app, ["serve", "--help"])
    assert result.exit_code == 0
    assert "Example: ROBOPREF_SECRET" in result.output and "--workers" in result.output


def test_a_pool_without_clips_is_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["serve", "--db", f"sqlite:///{tmp_path / 'x.db'}",
                                      "--pool", str(tmp_path)])
    assert result.exit_code == 2
    assert "clips/" in result.output


def test_a_short_secret_is_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "clips").mkdir()
    monkeypatch.setenv("ROBOPREF_SECRET", "short")
    result = CliRunner().invoke(app, ["serve", "--db", f"sqlite:///{tmp_path / 'x.db'}",
                                      "--pool", str(tmp_path)])
    assert result.exit_code == 2 and "16 characters" in result.output


@pytest.mark.parametrize("workers", [1, 3])
def test_migrates_once_then_starts_workers_without_upgrade(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rendered_pool: tuple[Path, pd.DataFrame],
    workers: int,
) -> None:
    import uvicorn

    from robopref.store import batch_ids, open_store

    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda target, **kw: calls.append((target, kw)))
    for name in ("ROBOPREF_DB_URL", "ROBOPREF_POOL", "ROBOPREF_UPGRADE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ROBOPREF_SECRET", "s" * 32)
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    result = CliRunner().invoke(app, ["serve", "--db", url, "--pool", str(rendered_pool[0]),
                                      "--port", "8123", "--workers", str(workers)])
    assert result.exit_code == 0, result.output
    store = open_store(url, upgrade=False, existing=True)  # tables exist: migrated already
    assert batch_ids(store) == []
    store.dispose()
    (target, kw), = calls
    assert kw["port"] == 8123 and kw["host"] == "127.0.0.1"
    if workers == 1:
        assert target.state.settings.upgrade is False
    else:
        import os

        assert target == "robopref.web.app:app_from_env" and kw["factory"] is True
        assert kw["workers"] == 3 and os.environ["ROBOPREF_UPGRADE"] == "false"
        for name in ("ROBOPREF_DB_URL", "ROBOPREF_POOL", "ROBOPREF_UPGRADE"):
            os.environ.pop(name, None)  # serve set them for the workers


def test_stale_clips_are_warned_about_at_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               rendered_pool: tuple[Path, pd.DataFrame]) -> None:
    import shutil

    import uvicorn

    pool = tmp_path / "pool"
    shutil.copytree(rendered_pool[0] / "clips", pool / "clips")
    old = next((pool / "clips").glob("*.mp4")).with_suffix(".json")
    old.write_text("{}")  # a sidecar without burned_id: rendered by an older robopref
    monkeypatch.setattr(uvicorn, "run", lambda target, **kw: None)
    monkeypatch.setenv("ROBOPREF_SECRET", "s" * 32)
    runner = CliRunner()
    args = ["serve", "--db", f"sqlite:///{tmp_path / 'serve.db'}", "--pool", str(pool)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "1 clip(s)" in result.output and "robopref render --force" in result.output
    shutil.copy(rendered_pool[0] / "clips" / old.name, old)
    assert "clip(s)" not in runner.invoke(app, args).output

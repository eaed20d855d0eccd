"""Fixtures of the fuzz suite: a case folder beside a sentinel folder that must never change."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def fuzz_dir(tmp_path: Path) -> Path:
    """An empty case folder; beside it `sentinel/` holds files a stray write would change."""
    sentinel = tmp_path / "sentinel"
    sentinel.mkdir()
    for name in ("escaped", "escaped.mp4", "notes.txt"):
        (sentinel / name).write_text(f"sentinel {name}\n")
    case = tmp_path / "case"
    case.mkdir()
    return case

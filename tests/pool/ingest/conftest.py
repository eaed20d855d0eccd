"""Fixtures for importer tests: the committed LeRobot datasets and their known content."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

import pytest

LEROBOT_DATA = Path(__file__).resolve().parents[2] / "data" / "lerobot"


def load_pattern() -> ModuleType:
    """tests/data/lerobot/pattern.py: the content the fixture writers recorded."""
    spec = importlib.util.spec_from_file_location("lerobot_pattern", LEROBOT_DATA / "pattern.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def pattern() -> ModuleType:
    return load_pattern()


@pytest.fixture
def lerobot_copy(tmp_path: Path):
    """Factory: a writable copy of the v30 or v21 fixture (for corrupting it)."""

    def make(version: str) -> Path:
        target = tmp_path / f"src_{version}"
        shutil.copytree(LEROBOT_DATA / version, target)
        return target

    return make

"""Shared fixtures: a seeded rng, single-threaded torch, and tiny pools with known truth."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("PYOPENGL_PLATFORM", os.environ["MUJOCO_GL"])
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _single_threaded_torch() -> None:
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


@pytest.fixture
def tiny_pool(tmp_path: Path) -> Callable[..., object]:
    """Factory: `tiny_pool(n=12, frame_size=32, ...)` → a Pool in a fresh tmp folder."""
    from robopref.testing import tiny_pool as build

    def make(**kwargs: object) -> object:
        name = f"pool{len(list(tmp_path.glob('pool*')))}"
        return build(tmp_path / name, **kwargs)  # type: ignore[arg-type]

    return make

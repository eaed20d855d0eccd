"""Fixtures for pair selection: manifests with known scores and quartiles."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest


def build_manifest(
    *, tasks: tuple[str, ...] = ("reach", "push"), n: int = 120, seed: int = 0
) -> pd.DataFrame:
    """`n` trajectories per task with random scores, quartiles by rank, and metric columns."""
    rng = np.random.default_rng(seed)
    frames = []
    for task in tasks:
        score = rng.normal(size=n)
        rank = pd.Series(score).rank(method="first").to_numpy()
        quartile = np.clip(np.floor((rank - 0.5) / n * 4).astype(int) + 1, 1, 4)
        frames.append(
            pd.DataFrame(
                {
                    "trajectory_id": [f"{task}-{i:04d}" for i in range(n)],
                    "task": task,
                    "source": "expert",
                    "quality_score": score,
                    "quartile": quartile,
                    "success": score > 0,
                    "collisions": rng.integers(0, 3, n),
                    "efficiency_score": rng.random(n),
                    "naturalness_score": rng.random(n),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


@pytest.fixture
def manifest() -> pd.DataFrame:
    return build_manifest()


@pytest.fixture
def make_manifest() -> Callable[..., pd.DataFrame]:
    return build_manifest

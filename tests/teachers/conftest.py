"""A store with one batch of 24 pairs over a 16-trajectory pool; a pool with env rewards."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from robopref.pairs import PairsConfig, select_pairs
from robopref.pool import Pool, append_to_pool
from robopref.store import Store, create_batch, sync_trajectories
from robopref.testing import synthetic_trajectory

ANNOTATORS = ("a1", "a2", "a3", "a4", "a5")


def seed_store(store: Store, manifest: pd.DataFrame) -> str:
    """Sync `manifest` and create batch `b1`: 24 pairs, 3 of `ANNOTATORS` per pair."""
    sync_trajectories(store, manifest)
    config = PairsConfig(batch_size=24, annotators_per_pair=3, duplicate_frac=0.25, seed=0)
    batch = select_pairs(manifest, config, annotator_ids=ANNOTATORS, batch_id="b1")
    create_batch(store, batch)
    return batch.batch_id


@pytest.fixture
def manifest(tiny_pool: Callable[..., object]) -> pd.DataFrame:
    return tiny_pool(n=16, frame_size=None).manifest  # type: ignore[attr-defined, no-any-return]


REWARD_SCALES = {"reach red": 1.0, "reach blue": 100.0}
"""Tasks of the rewarded pool and their reward scales (true_return compares within a task)."""


def rewarded_pool(root: Path, *, n: int = 16, seed: int = 0) -> Pool:
    """Synthetic reach trajectories with a dense env reward (Meta-World's reach shape,
    scale · exp(−distance / 0.1)), so the manifest's `true_return` is known per task."""
    rng = np.random.default_rng(seed)
    trajectories = []
    for t, (task, scale) in enumerate(REWARD_SCALES.items()):
        for i, quality in enumerate(rng.uniform(0.0, 1.0, n)):
            traj = synthetic_trajectory(f"rw-{t}-{i:03d}", quality=float(quality), rng=rng,
                                        frame_size=None, task=task)  # fmt: skip
            assert traj.goal_distance is not None
            reward = scale * np.exp(-traj.goal_distance.astype(np.float64) / 0.1)
            trajectories.append(dataclasses.replace(traj, env_reward=reward.astype(np.float32)))
    return append_to_pool(root, trajectories)


@pytest.fixture
def rewarded(tmp_path: Path) -> Pool:
    """`rewarded_pool` in a fresh folder."""
    return rewarded_pool(tmp_path / "rewarded")

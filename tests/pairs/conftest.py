"""Fixtures for pair selection: manifests with known scores and quartiles."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from robopref.pool import Pool
from robopref.pool.schema import MANIFEST_SCHEMA
from robopref.scoring import prefer_from_scores
from robopref.testing import tiny_pool

_FILL: dict[str, object] = {
    "env_id": "synthetic-v0", "source": "expert", "tier": "expert", "success_known": True,
    "n_steps": 20, "fps": 10.0, "duration_s": 2.0, "success": True, "collisions": 0,
    "minor_collisions": 0, "major_collisions": 0, "peak_force_n": 0.0, "path_length_m": 0.3,
    "straight_line_m": 0.2, "path_efficiency": 0.6, "jerk": 1.0, "jerk_log_dimensionless": 5.0,
    "gripper_changes": 0, "gripper_closed_frac": 0.0, "disqualified": False,
    "efficiency_score": 0.5, "naturalness_score": 0.5,
}  # fmt: skip
"""Values for the manifest columns `build_manifest` leaves out (nullable ones stay null)."""


def write_manifest(frame: pd.DataFrame, path: Path) -> Path:
    """`frame` completed to every MANIFEST_SCHEMA column and written as a manifest file."""
    n = len(frame)
    columns = {}
    for field in MANIFEST_SCHEMA:
        if field.name in frame.columns:
            columns[field.name] = pa.array(frame[field.name].tolist(), field.type)
        elif field.name == "cameras":
            columns[field.name] = pa.array([[]] * n, field.type)
        elif field.name == "added_at":
            columns[field.name] = pa.array([datetime(2025, 1, 1, tzinfo=UTC)] * n, field.type)
        else:
            columns[field.name] = pa.array([_FILL.get(field.name)] * n, field.type)
    pq.write_table(pa.table(columns, schema=MANIFEST_SCHEMA), path)
    return path


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


class TableEnsemble:
    """An ensemble scorer over a table of member rewards (`trajectory_id` → (M,) rewards).

    A real `EnsembleScorer`: members are the truth plus independent noise, so how close and
    how contested each pair is, is known.
    """

    def __init__(self, members: dict[str, np.ndarray]) -> None:
        self.members = members
        self.calls = 0
        """How many trajectories were scored, over all calls."""

    @classmethod
    def noisy(
        cls, truth: dict[str, float], *, n_members: int = 5, noise: float = 0.1, seed: int = 0
    ) -> TableEnsemble:
        rng = np.random.default_rng(seed)
        return cls({k: v + noise * rng.standard_normal(n_members) for k, v in truth.items()})

    def score_members(self, trajectories: Sequence[Any]) -> np.ndarray:
        self.calls += len(trajectories)
        return np.stack([self.members[t.trajectory_id] for t in trajectories])

    def score(self, trajectories: Sequence[Any]) -> np.ndarray:
        return np.asarray(self.score_members(trajectories).mean(axis=1))

    def prefer(self, a: Sequence[Any], b: Sequence[Any]) -> np.ndarray:
        return prefer_from_scores(self, a, b)


@pytest.fixture(scope="session")
def scored_pool(tmp_path_factory: pytest.TempPathFactory) -> Pool:
    """Two tasks × 80 state-only synthetic trajectories (quality_score is the truth)."""
    root = tmp_path_factory.mktemp("active") / "pool"
    return tiny_pool(root, n=80, frame_size=None, tasks=("reach a", "reach b"))


def truth_of(pool: Pool) -> dict[str, float]:
    """Trajectory id → quality_score, the pool's ground truth."""
    m = pool.manifest
    return dict(zip(m["trajectory_id"], m["quality_score"].astype(float), strict=True))

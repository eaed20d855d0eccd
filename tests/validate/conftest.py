"""Pools and scorers with known answers for the validation tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from robopref.pool import Pool, Trajectory, append_to_pool
from robopref.scoring import prefer_from_scores
from robopref.testing.synthetic import synthetic_trajectory


class TrueQualityScorer:
    """An honest scorer: the generator's true quality knob plus a little noise."""

    def __init__(self, noise: float = 0.02, seed: int = 0) -> None:
        self.noise = noise
        self.rng = np.random.default_rng(seed)

    def score(self, trajectories: Sequence[Trajectory]) -> np.ndarray:
        quality = np.array([float(t.metadata["true_quality"]) for t in trajectories])
        return quality + self.noise * self.rng.standard_normal(len(quality))

    def prefer(self, a: Sequence[Trajectory], b: Sequence[Trajectory]) -> np.ndarray:
        return prefer_from_scores(self, a, b)


class LengthScorer:
    """A planted reward hack: reward = trajectory length."""

    def score(self, trajectories: Sequence[Trajectory]) -> np.ndarray:
        return np.array([float(t.n_steps) for t in trajectories])

    def prefer(self, a: Sequence[Trajectory], b: Sequence[Trajectory]) -> np.ndarray:
        return prefer_from_scores(self, a, b)


def varied_pool(path: Path, *, n: int = 24, frame_size: int | None = 32, seed: int = 0) -> Pool:
    """`n` reach trajectories: quality evenly spread, length random (independent of quality)."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(12, 41, size=n)
    trajectories = [
        synthetic_trajectory(
            f"v-{i:03d}",
            quality=float(q),
            rng=rng,
            n_steps=int(lengths[i]),
            frame_size=frame_size,
            task="reach the red target" if i % 2 else "reach the blue target",
        )
        for i, q in enumerate(np.linspace(0.0, 1.0, n))
    ]
    return append_to_pool(path, trajectories)


def pairs_from_truth(pool: Pool, *, n_pairs: int = 40, seed: int = 1) -> pd.DataFrame:
    """Preferences-schema pairs labelled by the true quality (close ones as ties)."""
    rng = np.random.default_rng(seed)
    ids = pool.manifest["trajectory_id"].tolist()
    quality = {t: float(pool[t].metadata["true_quality"]) for t in ids}
    rows = []
    for k in range(n_pairs):
        a, b = rng.choice(len(ids), size=2, replace=False)
        gap = quality[ids[a]] - quality[ids[b]]
        preference = 0.5 if abs(gap) < 0.05 else float(gap > 0)
        rows.append(
            {
                "pair_id": f"p{k:03d}",
                "trajectory_a_id": ids[a],
                "trajectory_b_id": ids[b],
                "preference": preference,
                "confidence_mean": 4.0,
                "num_annotators": 2,
                "agreement": 1.0,
                "annotator_ids": ["ann1", "ann2"],
            }
        )
    return pd.DataFrame(rows)


@pytest.fixture(scope="session")
def pool_with_frames(tmp_path_factory: pytest.TempPathFactory) -> Pool:
    return varied_pool(tmp_path_factory.mktemp("vpool") / "pool")


@pytest.fixture(scope="session")
def pool_without_frames(tmp_path_factory: pytest.TempPathFactory) -> Pool:
    return varied_pool(tmp_path_factory.mktemp("vpool_nf") / "pool", frame_size=None)


@pytest.fixture
def make_pairs() -> Callable[..., pd.DataFrame]:
    return pairs_from_truth


@pytest.fixture
def honest_scorer() -> TrueQualityScorer:
    return TrueQualityScorer()


@pytest.fixture
def length_scorer() -> LengthScorer:
    return LengthScorer()

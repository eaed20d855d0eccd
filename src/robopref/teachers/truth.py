"""Ground truth for simulated teachers: a normalised score per trajectory and per-step progress.

The score is the rubric's `quality_score` (the default, which every verb, the demo and the
benches used so far) or the simulator's own `true_return` (the honest benchmark truth no AI
labeler reads: `robopref.pool.true_return`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from robopref.errors import InputError
from robopref.types import TruthColumn

__all__ = [
    "GroundTruth",
    "TruthColumn",
    "normalised_scores",
    "step_progress",
    "truth_from_frame",
    "truth_from_pool",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class GroundTruth:
    """What a simulated teacher knows about each trajectory.

    Attributes:
        score: Trajectory id → the truth column rescaled to [0, 1] (min → 0, max → 1: over
            the pool for quality_score, within each task for true_return), the "return"
            B-Pref's teachers compare.
        progress: Trajectory id → (T,) per-step task progress in [0, 1]
            (`1 − goal_distance_t / goal_distance_0`); only the myopic teacher reads it.
            Trajectories without a goal series are absent.
    """

    score: Mapping[str, float]
    progress: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.score:
            raise ValueError("score must hold at least one trajectory")

    @property
    def margin(self) -> float:
        """Mean normalised score: the scale B-Pref's skip/equal ε multiply (its mean return)."""
        return float(np.mean(list(self.score.values())))

    def value(self, trajectory_id: str, gamma: float = 1.0) -> float:
        """The quantity a teacher with discount `gamma` compares.

        gamma = 1 gives the normalised score. gamma < 1 (myopic) gives the discounted mean
        of per-step progress, weighting step t by gamma^(T−1−t) so recent steps dominate
        (B-Pref's myopic teacher); without a progress series it falls back to the score.

        Raises:
            InputError: The trajectory is unknown.
        """
        if trajectory_id not in self.score:
            raise InputError("ground truth", "trajectory_id", f"{trajectory_id!r} unknown")
        series = self.progress.get(trajectory_id)
        if gamma >= 1.0 or series is None or len(series) == 0:
            return float(self.score[trajectory_id])
        weights = gamma ** np.arange(len(series) - 1, -1, -1, dtype=np.float64)
        return float(np.dot(weights, series) / weights.sum())


def normalised_scores(ids: Iterable[str], scores: Iterable[float]) -> dict[str, float]:
    """Scores rescaled to [0, 1] (all 0.5 when every score is equal).

    >>> normalised_scores(["a", "b", "c"], [-1.0, 0.0, 3.0])
    {'a': 0.0, 'b': 0.25, 'c': 1.0}
    """
    ids, values = list(ids), np.asarray(list(scores), dtype=np.float64)
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-12:
        return dict.fromkeys(ids, 0.5)
    return {i: float(v) for i, v in zip(ids, (values - low) / (high - low), strict=True)}


def truth_from_frame(
    frame: pd.DataFrame, truth: TruthColumn | str = TruthColumn.QUALITY_SCORE
) -> GroundTruth:
    """Ground truth from any frame with `trajectory_id` and the truth column (manifest, store).

    Args:
        frame: Rows with `trajectory_id` and `truth` (and `task` for `true_return`).
        truth: `quality_score` (normalised over the frame) or `true_return` (normalised
            within each task).

    Raises:
        InputError: A column is missing, the frame is empty, or `true_return` is null for
            some trajectory (a pool without the simulator's reward).
    """
    column = _truth_column(truth)
    needed: tuple[str, ...] = ("trajectory_id", column.value)
    if column is TruthColumn.TRUE_RETURN:
        needed += ("task",)
    for name in needed:
        if name not in frame.columns:
            raise InputError("manifest", name, "column missing")
    if frame.empty:
        raise InputError("manifest", "trajectory_id", "no trajectories")
    if column is TruthColumn.QUALITY_SCORE:
        return GroundTruth(score=normalised_scores(frame["trajectory_id"], frame[column.value]))
    values = truth_values(frame, column).to_numpy()
    score: dict[str, float] = {}
    for _, rows in frame.assign(_value=values).groupby("task", sort=False):
        score.update(normalised_scores(rows["trajectory_id"].astype(str), rows["_value"]))
    return GroundTruth(score=score)


def truth_values(frame: pd.DataFrame, truth: TruthColumn | str) -> pd.Series:
    """Trajectory id → the truth column as it is (not normalised): what benchmarks score by.

    Raises:
        InputError: The column is missing, or null for some trajectory.
    """
    column = _truth_column(truth)
    for name in ("trajectory_id", column.value):
        if name not in frame.columns:
            raise InputError("manifest", name, "column missing")
    values = pd.to_numeric(frame[column.value], errors="coerce")
    if values.isna().any():
        missing = frame.loc[values.isna(), "trajectory_id"].astype(str).tolist()
        raise InputError("manifest", column.value, f"null for {len(missing)} trajectories "
                         f"(e.g. {missing[:3]}): the pool has no simulator return; "
                         "answer from quality_score instead")
    return pd.Series(values.to_numpy(float), index=frame["trajectory_id"].astype(str))


def _truth_column(truth: TruthColumn | str) -> TruthColumn:
    try:
        return TruthColumn(truth)
    except ValueError:
        known = [c.value for c in TruthColumn]
        raise InputError("truth", "truth", f"must be one of {known}, got {truth!r}") from None


def truth_from_pool(
    pool_path: str | Path, truth: TruthColumn | str = TruthColumn.QUALITY_SCORE
) -> GroundTruth:
    """Ground truth from a pool folder, with per-step progress read from each `arrays.npz`.

    Args:
        pool_path: The pool folder.
        truth: The manifest column to answer from (see `truth_from_frame`).

    Raises:
        InputError: The folder is not a pool, or the truth column is null (true_return of
            an imported or older pool).
    """
    import robopref.pool as rp

    pool = rp.open(pool_path)
    try:
        base = truth_from_frame(pool.manifest, truth)
    except InputError as exc:
        raise InputError(pool.root / "manifest.parquet", exc.field, exc.message) from exc
    progress: dict[str, np.ndarray] = {}
    for trajectory in pool:  # read through the pool's checks (arrays only; frames stay lazy)
        if trajectory.goal_distance is not None:
            progress[trajectory.trajectory_id] = step_progress(trajectory.goal_distance)
    if len(progress) < len(base.score):
        logger.warning("%d of %d trajectories lack goal_distance: myopic teachers use their "
                       "score instead", len(base.score) - len(progress), len(base.score))
    return GroundTruth(score=base.score, progress=progress)


def step_progress(goal_distance: np.ndarray) -> np.ndarray:
    """Per-step progress in [0, 1] from a (T,) goal-distance series.

    >>> step_progress(np.array([0.4, 0.2, 0.0])).tolist()
    [0.0, 0.5, 1.0]
    """
    distance = np.asarray(goal_distance, dtype=np.float64)
    start = float(distance[0]) if len(distance) else 0.0
    if start <= 1e-9:
        return np.ones_like(distance)
    return np.clip(1.0 - distance / start, 0.0, 1.0)

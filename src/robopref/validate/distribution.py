"""Reward distributions on the whole pool: tier histograms, overlap, Spearman ρ vs truth.

Part 2 of seed 004's validation protocol.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

GROUND_TRUTH_COLUMNS = (
    ("quality_score", 1),
    ("success", 1),
    ("path_efficiency", 1),
    ("progress", 1),
    ("final_goal_distance_m", -1),
)
"""Manifest columns the reward is checked against, with the sign a good reward should have
(final error: lower is better, so a good reward correlates negatively)."""


@dataclass(frozen=True, kw_only=True)
class GroupStats:
    """Summary of the rewards of one tier or source."""

    n: int
    """Trajectories."""
    mean: float
    """Mean reward."""
    std: float
    """Standard deviation of the reward."""
    median: float
    """Median reward."""


@dataclass(frozen=True, kw_only=True)
class Overlap:
    """How much two reward distributions overlap."""

    high: str
    """Group expected to score higher (e.g. `expert`)."""
    low: str
    """Group expected to score lower (e.g. `random`)."""
    auc: float
    """P(r_high > r_low) + ½ P(equal), the Mann–Whitney AUC: 1 = fully separated, 0.5 = no
    separation."""
    overlap_coefficient: float
    """Σ min(p_i, q_i) over shared histogram bins: 0 = disjoint, 1 = identical."""
    separated: bool
    """auc ≥ `ValidateConfig.min_expert_random_auc`."""


@dataclass(frozen=True, kw_only=True)
class Correlation:
    """Spearman rank correlation of the reward with one ground-truth column."""

    column: str
    """Manifest column."""
    n: int
    """Trajectories with a value."""
    rho: float | None
    """Spearman ρ; None when fewer than 3 values or either side is constant."""
    p_value: float | None
    """Two-sided p-value of ρ."""
    expected_sign: int
    """+1 when higher is better for the column, −1 when lower is better."""


@dataclass(frozen=True, kw_only=True)
class DistributionMetrics:
    """Part 2 of the validation protocol: distributions and correlations on the whole pool."""

    by_tier: dict[str, GroupStats]
    """Reward summary per tier (`expert`, `novice`, `policy_checkpoint`, ...)."""
    by_source: dict[str, GroupStats]
    """Reward summary per source label."""
    expert_vs_random: Overlap | None
    """Overlap of the expert and random tiers; None when the pool lacks either."""
    top_vs_bottom_quartile: Overlap | None
    """Overlap of quartile 4 and quartile 1 (every pool with ≥ 4 per task has both)."""
    correlations: dict[str, Correlation]
    """Spearman ρ of the reward against each ground-truth column the pool has."""
    correlations_by_task: dict[str, Correlation]
    """Spearman ρ against quality_score within each task (scores are per-task scales)."""
    notes: list[str]
    """What could not be measured and why."""


def auc(high: np.ndarray, low: np.ndarray) -> float:
    """Mann–Whitney AUC: P(x_high > x_low) + ½ P(x_high = x_low).

    >>> auc(np.array([3.0, 4.0]), np.array([1.0, 2.0]))
    1.0
    >>> auc(np.array([1.0, 2.0]), np.array([1.0, 2.0]))
    0.5
    """
    high = np.asarray(high, dtype=np.float64)[:, None]
    low = np.asarray(low, dtype=np.float64)[None, :]
    return float(((high > low) + 0.5 * (high == low)).mean())


def overlap_coefficient(x: np.ndarray, y: np.ndarray, *, bins: int) -> float:
    """Σ_i min(p_i, q_i) of the two normalised histograms on shared bins.

    >>> overlap_coefficient(np.array([0.0, 1.0]), np.array([0.0, 1.0]), bins=4)
    1.0
    >>> overlap_coefficient(np.array([0.0, 0.1]), np.array([0.9, 1.0]), bins=4)
    0.0
    """
    both = np.concatenate([x, y]).astype(np.float64)
    lo, hi = float(both.min()), float(both.max())
    edges = np.linspace(lo, hi if hi > lo else lo + 1.0, bins + 1)
    p = np.histogram(x, edges)[0] / len(x)
    q = np.histogram(y, edges)[0] / len(y)
    return float(np.minimum(p, q).sum())


def spearman(reward: np.ndarray, values: pd.Series, *, column: str, sign: int) -> Correlation:
    """Spearman ρ of reward against a column's non-missing values."""
    known = values.notna().to_numpy()
    x = np.asarray(reward, dtype=np.float64)[known]
    y = values[known].to_numpy(dtype=np.float64)
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return Correlation(column=column, n=len(x), rho=None, p_value=None, expected_sign=sign)
    result = stats.spearmanr(x, y)
    return Correlation(
        column=column,
        n=len(x),
        rho=float(result.statistic),
        p_value=float(result.pvalue),
        expected_sign=sign,
    )


def _group_stats(reward: np.ndarray, key: pd.Series) -> dict[str, GroupStats]:
    out = {}
    for name in sorted(key.unique().tolist()):
        r = reward[(key == name).to_numpy()]
        out[str(name)] = GroupStats(
            n=len(r), mean=float(r.mean()), std=float(r.std()), median=float(np.median(r))
        )
    return out


def _overlap(
    high: np.ndarray, low: np.ndarray, *, names: tuple[str, str], bins: int, min_auc: float
) -> Overlap | None:
    if not len(high) or not len(low):
        return None
    value = auc(high, low)
    return Overlap(
        high=names[0],
        low=names[1],
        auc=value,
        overlap_coefficient=overlap_coefficient(high, low, bins=bins),
        separated=value >= min_auc,
    )


def ground_truth_frame(manifest: pd.DataFrame) -> pd.DataFrame:
    """The ground-truth columns with unknown values as NaN (success only where known)."""
    frame = pd.DataFrame(index=manifest.index)
    for column, _ in GROUND_TRUTH_COLUMNS:
        if column not in manifest.columns:
            continue
        values = manifest[column].astype("float64")
        if column == "success" and "success_known" in manifest.columns:
            values = values.where(manifest["success_known"].astype(bool))
        frame[column] = values
    return frame


def evaluate_distribution(
    reward: np.ndarray, manifest: pd.DataFrame, *, bins: int, min_auc: float
) -> DistributionMetrics:
    """Distributions and correlations of the rewards of every pool trajectory.

    Args:
        reward: (N,) rewards in manifest row order.
        manifest: Pool manifest.
        bins: Histogram bins for the overlap coefficient.
        min_auc: See `ValidateConfig.min_expert_random_auc`.
    """
    reward = np.asarray(reward, dtype=np.float64)
    tier = manifest["tier"] if "tier" in manifest.columns else manifest["source"]
    notes: list[str] = []
    truth = ground_truth_frame(manifest)
    correlations = {}
    for column, sign in GROUND_TRUTH_COLUMNS:
        if column not in truth.columns or truth[column].notna().sum() == 0:
            notes.append(f"{column}: not in this pool; no correlation computed")
            continue
        correlations[column] = spearman(reward, truth[column], column=column, sign=sign)
    by_task = {}
    for task in sorted(manifest["task"].unique().tolist()):
        mine = (manifest["task"] == task).to_numpy()
        quality = manifest.loc[mine, "quality_score"].reset_index(drop=True)
        by_task[str(task)] = spearman(reward[mine], quality, column="quality_score", sign=1)
    expert = reward[(tier == "expert").to_numpy()]
    random = reward[(tier == "random").to_numpy()]
    expert_vs_random = _overlap(
        expert, random, names=("expert", "random"), bins=bins, min_auc=min_auc
    )
    if expert_vs_random is None:
        notes.append("expert vs random: the pool lacks the expert or the random tier")
    quartile = manifest["quartile"].to_numpy()
    top_vs_bottom = _overlap(
        reward[quartile == 4], reward[quartile == 1], names=("Q4", "Q1"), bins=bins, min_auc=min_auc
    )
    return DistributionMetrics(
        by_tier=_group_stats(reward, tier.astype(str)),
        by_source=_group_stats(reward, manifest["source"].astype(str)),
        expert_vs_random=expert_vs_random,
        top_vs_bottom_quartile=top_vs_bottom,
        correlations=correlations,
        correlations_by_task=by_task,
        notes=notes,
    )

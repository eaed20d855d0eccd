"""Held-out ranking accuracy (overall, by task, by quartile pairing) and calibration of P(A≻B).

A Bradley–Terry model's preference probability is P(A≻B) = σ(r(A) − r(B)) (seed 004), so
both are computed from per-trajectory rewards. Labels follow the preferences schema:
1.0 = A preferred, 0.0 = B preferred, 0.5 = tie (other values in [0, 1] count by side).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

A_WINS, TIE, B_WINS = 1, 0, -1


@dataclass(frozen=True, kw_only=True)
class GroupAccuracy:
    """Ranking accuracy of one group of pairs."""

    n_pairs: int
    """Pairs in the group, ties included."""
    n_ties: int
    """Pairs labelled as ties (preference 0.5)."""
    accuracy: float | None
    """Ties excluded: fraction of decisive pairs whose preferred side has the higher reward
    (an exact reward tie counts half); None without decisive pairs."""
    accuracy_with_ties: float | None
    """Ties included: three-way accuracy, a pair predicted a tie when |P(A≻B) − 0.5| ≤
    tie_band; None without pairs."""


@dataclass(frozen=True, kw_only=True)
class CalibrationBin:
    """One bin of the reliability diagram."""

    lower: float
    """Lower edge of P(A≻B) (inclusive)."""
    upper: float
    """Upper edge (exclusive, except 1.0 in the last bin)."""
    n_pairs: int
    """Pairs whose P(A≻B) falls in the bin."""
    mean_predicted: float | None
    """Mean P(A≻B) of those pairs; None for an empty bin."""
    observed: float | None
    """Mean label of those pairs (ties count 0.5); None for an empty bin."""


@dataclass(frozen=True, kw_only=True)
class Calibration:
    """Reliability diagram and expected calibration error of P(A≻B)."""

    bins: list[CalibrationBin]
    """Equal-width bins on [0, 1]."""
    ece: float | None
    """Σ_b (n_b / N) · |observed_b − mean_predicted_b|; None without pairs."""


@dataclass(frozen=True, kw_only=True)
class RankingMetrics:
    """Part 1 of the validation protocol (seed 004): held-out ranking accuracy."""

    overall: GroupAccuracy
    """All test pairs."""
    by_task: dict[str, GroupAccuracy]
    """Per task (the pair's `task` column, else trajectory A's task)."""
    by_quartile_pair: dict[str, GroupAccuracy]
    """Per quartile pairing, `Q<low>-Q<high>` from the manifest quartiles."""
    by_stratum: dict[str, GroupAccuracy]
    """Per stratum: `same`, `adjacent` or `distant` quartiles."""
    calibration: Calibration
    """Calibration of P(A≻B) on all test pairs."""


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function, numerically stable.

    >>> sigmoid(np.array([0.0, 100.0, -100.0])).round(3).tolist()
    [0.5, 1.0, 0.0]
    """
    out: np.ndarray = 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=np.float64)))
    return out


def label_classes(preference: np.ndarray) -> np.ndarray:
    """Three-way class of each label: 1 = A preferred, 0 = tie, −1 = B preferred.

    >>> label_classes(np.array([1.0, 0.5, 0.0, 0.8])).tolist()
    [1, 0, -1, 1]
    """
    return np.sign(np.asarray(preference, dtype=np.float64) - 0.5).astype(np.int64)


def group_accuracy(prob: np.ndarray, preference: np.ndarray, *, tie_band: float) -> GroupAccuracy:
    """Ranking accuracy with ties excluded and included.

    Args:
        prob: (N,) predicted P(A≻B).
        preference: (N,) labels in [0, 1] (0.5 = tie).
        tie_band: Half-width of the predicted-tie band around 0.5 (ties included only).

    >>> g = group_accuracy(np.array([0.9, 0.2, 0.55, 0.7]), np.array([1.0, 1.0, 0.5, 0.5]),
    ...                    tie_band=0.1)
    >>> g.accuracy, g.accuracy_with_ties, g.n_ties
    (0.5, 0.5, 2)
    """
    prob = np.asarray(prob, dtype=np.float64)
    truth = label_classes(preference)
    decisive = truth != TIE
    predicted_side = np.sign(prob - 0.5)
    hits = np.where(predicted_side == 0, 0.5, (predicted_side == truth).astype(np.float64))
    predicted = np.where(np.abs(prob - 0.5) <= tie_band, TIE, predicted_side).astype(np.int64)
    return GroupAccuracy(
        n_pairs=len(prob),
        n_ties=int((~decisive).sum()),
        accuracy=float(hits[decisive].mean()) if decisive.any() else None,
        accuracy_with_ties=float((predicted == truth).mean()) if len(prob) else None,
    )


def calibration(prob: np.ndarray, preference: np.ndarray, *, n_bins: int) -> Calibration:
    """Reliability diagram and ECE of P(A≻B) against the labels (ties count 0.5).

    >>> c = calibration(np.array([0.1, 0.1, 0.9, 0.9]), np.array([0.0, 1.0, 1.0, 1.0]),
    ...                 n_bins=2)
    >>> round(c.ece, 3)
    0.25
    """
    prob = np.asarray(prob, dtype=np.float64)
    label = np.asarray(preference, dtype=np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    index = np.clip(np.searchsorted(edges, prob, side="right") - 1, 0, n_bins - 1)
    bins, gap = [], 0.0
    for b in range(n_bins):
        inside = index == b
        n = int(inside.sum())
        mean_p = float(prob[inside].mean()) if n else None
        observed = float(label[inside].mean()) if n else None
        if mean_p is not None and observed is not None:
            gap += n * abs(observed - mean_p)
        bins.append(
            CalibrationBin(
                lower=float(edges[b]),
                upper=float(edges[b + 1]),
                n_pairs=n,
                mean_predicted=mean_p,
                observed=observed,
            )
        )
    return Calibration(bins=bins, ece=gap / len(prob) if len(prob) else None)


def pair_probabilities(rewards: Mapping[str, float], pairs: pd.DataFrame) -> np.ndarray:
    """(N,) P(A≻B) = σ(r(A) − r(B)) for each pair (ids must be in `rewards`)."""
    r_a = np.array([rewards[t] for t in pairs["trajectory_a_id"]], dtype=np.float64)
    r_b = np.array([rewards[t] for t in pairs["trajectory_b_id"]], dtype=np.float64)
    return sigmoid(r_a - r_b)


def quartile_pairing(q_a: int, q_b: int) -> str:
    """Name of a quartile pairing, lower quartile first.

    >>> quartile_pairing(4, 2)
    'Q2-Q4'
    """
    low, high = sorted((int(q_a), int(q_b)))
    return f"Q{low}-Q{high}"


def stratum(q_a: int, q_b: int) -> str:
    """`same`, `adjacent` or `distant` quartiles (the pair selection's strata).

    >>> stratum(1, 1), stratum(2, 3), stratum(1, 4)
    ('same', 'adjacent', 'distant')
    """
    gap = abs(int(q_a) - int(q_b))
    return "same" if gap == 0 else "adjacent" if gap == 1 else "distant"


def evaluate_ranking(
    rewards: Mapping[str, float],
    pairs: pd.DataFrame,
    manifest: pd.DataFrame,
    *,
    tie_band: float,
    calibration_bins: int,
) -> RankingMetrics:
    """Ranking accuracy and calibration of rewards on held-out pairs.

    Args:
        rewards: Trajectory id → reward, covering every trajectory in `pairs`.
        pairs: Preferences-schema rows (`trajectory_a_id`, `trajectory_b_id`, `preference`,
            optional `task`).
        manifest: Pool manifest (`trajectory_id`, `task`, `quartile`).
        tie_band: See `ValidateConfig.tie_band`.
        calibration_bins: See `ValidateConfig.calibration_bins`.
    """
    prob = pair_probabilities(rewards, pairs)
    label = pairs["preference"].to_numpy(dtype=np.float64)
    info = manifest.set_index("trajectory_id")
    q_a = info.loc[pairs["trajectory_a_id"], "quartile"].to_numpy()
    q_b = info.loc[pairs["trajectory_b_id"], "quartile"].to_numpy()
    task = info.loc[pairs["trajectory_a_id"], "task"].to_numpy(dtype=object)
    if "task" in pairs.columns:
        task = np.where(pairs["task"].notna().to_numpy(), pairs["task"].to_numpy(), task)
    keys = {
        "by_task": np.array([str(t) for t in task], dtype=object),
        "by_quartile_pair": np.array(
            [quartile_pairing(a, b) for a, b in zip(q_a, q_b, strict=True)]
        ),
        "by_stratum": np.array([stratum(a, b) for a, b in zip(q_a, q_b, strict=True)]),
    }
    groups = {
        name: {
            str(k): group_accuracy(prob[key == k], label[key == k], tie_band=tie_band)
            for k in sorted(set(key.tolist()))
        }
        for name, key in keys.items()
    }
    return RankingMetrics(
        overall=group_accuracy(prob, label, tie_band=tie_band),
        by_task=groups["by_task"],
        by_quartile_pair=groups["by_quartile_pair"],
        by_stratum=groups["by_stratum"],
        calibration=calibration(prob, label, n_bins=calibration_bins),
    )

"""Per-annotator statistics, threshold flags and > 2σ outliers against the other annotators."""

from __future__ import annotations

import numpy as np
import pandas as pd

from robopref.quality.config import QAConfig
from robopref.quality.consistency import (
    majority_agreement,
    position_bias,
    production,
    self_consistency,
)
from robopref.quality.gold import gold_accuracy

STAT_COLUMNS = (
    "n_annotations",
    "n_gold",
    "gold_accuracy",
    "mean_response_time_ms",
    "fast_fraction",
    "n_duplicates",
    "self_consistency",
    "n_majority",
    "majority_agreement",
    "n_sided",
    "left_fraction",
    "flags",
    "flagged",
)
"""Columns of `annotator_stats` (index `annotator_id`)."""

OUTLIER_STATS: dict[str, tuple[str, int]] = {
    "gold_accuracy": ("n_gold", -1),
    "fast_fraction": ("n_annotations", +1),
    "self_consistency": ("n_duplicates", -1),
    "majority_agreement": ("n_majority", -1),
    "position_bias": ("n_sided", +1),
    "log_response_time": ("n_annotations", -1),
}
"""Stat → (count column that must reach `min_answers`, bad direction: +1 high is bad, −1 low)."""


def annotator_stats(resolved: pd.DataFrame, config: QAConfig) -> pd.DataFrame:
    """Every annotator's production statistics, with the flags they raise.

    Flags (seed 004): `gold` (disagrees on more than `max_gold_disagreement` of gold
    pairs), `fast` (more than `max_fast_fraction` of answers under `fast_response_ms`),
    `inconsistent` (self-consistency under `min_self_consistency`), `position` (left share
    further than `max_position_bias` from 0.5 and a two-sided binomial p-value under
    `position_bias_p`), and `outlier:<stat>` when a stat is more
    than `outlier_sigma` standard deviations worse than the mean of the other annotators.
    A stat flags only when it rests on at least `min_answers` answers (`min_duplicates`
    for self-consistency).

    Args:
        resolved: `resolve_annotations` output; calibration answers are ignored.
        config: Thresholds.

    Returns:
        Index `annotator_id`, columns `STAT_COLUMNS`; `flags` is a comma-separated string
        (empty when clean).
    """
    rows = production(resolved)
    times = rows["response_time_ms"].groupby(rows["annotator_id"])
    base = pd.DataFrame(
        {
            "n_annotations": times.size(),
            "mean_response_time_ms": times.mean(),
            "fast_fraction": (rows["response_time_ms"] < config.fast_response_ms)
            .astype(float)
            .groupby(rows["annotator_id"])
            .mean(),
        }
    )
    parts: list[pd.DataFrame | pd.Series] = [
        gold_accuracy(rows),
        self_consistency(rows),
        majority_agreement(rows),
        position_bias(rows),
    ]
    stats = base.join(parts, how="left")
    for column in ("n_gold", "n_duplicates", "n_majority", "n_sided"):
        stats[column] = stats[column].fillna(0).astype(np.int64)
    flags = _threshold_flags(stats, config)
    for annotator, extra in _outlier_flags(stats, config).items():
        flags[annotator] = [*flags[annotator], *extra]
    stats["flags"] = pd.Series({a: ",".join(f) for a, f in flags.items()}, dtype=object)
    stats["flagged"] = stats["flags"] != ""
    stats.index.name = "annotator_id"
    return stats[list(STAT_COLUMNS)].sort_index()


def _minimum(count: str, config: QAConfig) -> int:
    """Answers needed before a stat resting on `count` may flag."""
    return config.min_duplicates if count == "n_duplicates" else config.min_answers


def side_p_value(n_sided: pd.Series, left_fraction: pd.Series) -> pd.Series:
    """Two-sided binomial p-value of each annotator's left share against a fair coin.

    >>> side_p_value(pd.Series([30, 100]), pd.Series([22 / 30, 0.73])).round(4).tolist()
    [0.0161, 0.0]
    """
    from scipy.stats import binom

    n = n_sided.fillna(0).to_numpy(float)
    left = np.rint(left_fraction.fillna(0.5).to_numpy(float) * n)
    tail = binom.cdf(np.minimum(left, n - left), n, 0.5)
    return pd.Series(np.minimum(1.0, 2.0 * tail), index=n_sided.index)


def _threshold_flags(stats: pd.DataFrame, config: QAConfig) -> dict[str, list[str]]:
    enough = {
        c: stats[c] >= _minimum(c, config)
        for c in ("n_gold", "n_annotations", "n_duplicates", "n_sided")
    }
    rules = {
        "gold": enough["n_gold"] & (stats["gold_accuracy"] < 1.0 - config.max_gold_disagreement),
        "fast": enough["n_annotations"] & (stats["fast_fraction"] > config.max_fast_fraction),
        "inconsistent": enough["n_duplicates"]
        & (stats["self_consistency"] < config.min_self_consistency),
        "position": enough["n_sided"]
        & ((stats["left_fraction"] - 0.5).abs() > config.max_position_bias)
        & (side_p_value(stats["n_sided"], stats["left_fraction"]) < config.position_bias_p),
    }
    return {a: [name for name, hit in rules.items() if bool(hit.loc[a])] for a in stats.index}


def _outlier_flags(stats: pd.DataFrame, config: QAConfig) -> dict[str, list[str]]:
    """`outlier:<stat>` where an annotator is > outlier_sigma σ worse than the others' mean.

    Leave-one-out: with five annotators, one outlier among them can never be 2σ from a
    mean and σ that include it, so each is compared with the others only. σ has a floor
    (`outlier_min_std`) so near-identical careful annotators do not flag each other.
    """
    values = pd.DataFrame(
        {
            "gold_accuracy": stats["gold_accuracy"],
            "fast_fraction": stats["fast_fraction"],
            "self_consistency": stats["self_consistency"],
            "majority_agreement": stats["majority_agreement"],
            "position_bias": (stats["left_fraction"] - 0.5).abs(),
            "log_response_time": np.log10(stats["mean_response_time_ms"].clip(lower=1.0)),
        }
    )
    out: dict[str, list[str]] = {a: [] for a in stats.index}
    for stat, (count, direction) in OUTLIER_STATS.items():
        x = values[stat].where(stats[count] >= _minimum(count, config)).to_numpy(float)
        z = direction * _leave_one_out_z(x, config.outlier_min_std)
        for annotator in stats.index[z > config.outlier_sigma]:
            out[annotator].append(f"outlier:{stat}")
    return out


def _leave_one_out_z(x: np.ndarray, min_std: float) -> np.ndarray:
    """Each value's distance from the mean of the *other* values, in their σ (ddof=1).

    NaN values take no part; a value with fewer than two others gets NaN. σ is at least
    `min_std`. Computed from sums in one pass instead of one drop per annotator.

    >>> _leave_one_out_z(np.array([0.0, 0.0, 1.0, 2.0, np.nan]), 0.1).round(2).tolist()
    [-1.0, -1.0, 0.29, 2.89, nan]
    """
    valid = ~np.isnan(x)
    v = np.where(valid, x, 0.0)
    n_others = valid.sum() - 1
    if n_others < 2:
        return np.full(len(x), np.nan)
    # shift by the mean so the sum of squares does not lose precision
    shift = v[valid].mean()
    d = np.where(valid, v - shift, 0.0)
    mean = (d.sum() - d) / n_others
    var = (np.square(d).sum() - np.square(d) - n_others * np.square(mean)) / (n_others - 1)
    sigma = np.maximum(np.sqrt(np.clip(var, 0.0, None)), min_std)
    return np.where(valid, (d - mean) / sigma, np.nan)

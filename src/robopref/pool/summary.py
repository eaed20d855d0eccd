"""Summary tables of a pool: counts by task × source, success by tier, quartiles, metric ranges."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

SUMMARY_METRICS = (
    "duration_s",
    "collisions",
    "min_clearance_m",
    "path_length_m",
    "path_efficiency",
    "jerk_log_dimensionless",
    "gripper_changes",
    "quality_score",
)
TIER_ORDER = ("expert", "policy_checkpoint", "novice", "scripted", "random")


@dataclass(frozen=True)
class PoolSummary:
    """The tables `robopref pool show` prints."""

    counts: pd.DataFrame
    """Trajectories per task (rows) and source (columns), with totals."""
    by_tier: pd.DataFrame
    """Per tier: count `n`, `success` rate, mean `quality` score, mean `collisions`."""
    quartile_bounds: pd.DataFrame
    """Per task: the quality-score boundaries between quartiles 1|2, 2|3 and 3|4."""
    metric_ranges: pd.DataFrame
    """Per metric: min, median and max over the pool."""


def summarize(manifest: pd.DataFrame) -> PoolSummary:
    """Summarise a pool manifest."""
    counts = pd.crosstab(manifest["task"], manifest["source"], margins=True, margins_name="total")
    by_tier = manifest.groupby("tier").agg(
        n=("trajectory_id", "size"),
        success=("success", "mean"),
        quality=("quality_score", "mean"),
        collisions=("collisions", "mean"),
    )
    order = [t for t in TIER_ORDER if t in by_tier.index] + sorted(
        set(by_tier.index) - set(TIER_ORDER)
    )
    by_tier = by_tier.loc[order]
    bounds = {
        task: {
            f"q{q}|q{q + 1}": (
                group.loc[group["quartile"] == q, "quality_score"].max()
                + group.loc[group["quartile"] == q + 1, "quality_score"].min()
            )
            / 2
            for q in (1, 2, 3)
        }
        for task, group in manifest.groupby("task")
    }
    present = [m for m in SUMMARY_METRICS if m in manifest and manifest[m].notna().any()]
    ranges = manifest[present].astype(float).agg(["min", "median", "max"]).T
    return PoolSummary(counts, by_tier, pd.DataFrame(bounds).T, ranges)

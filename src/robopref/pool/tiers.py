"""Quality quartiles per task and the scoring of a whole manifest."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pandas as pd

from robopref.pool.config import PoolConfig
from robopref.pool.metrics import TrajectoryMetrics
from robopref.pool.rubric import rubric_score


def assign_quartiles(scores: pd.Series, tasks: pd.Series) -> pd.Series:
    """Quartile of each score within its task: 1 = worst … 4 = best.

    Ranks break ties by order of appearance, so equal scores may straddle a boundary but
    every quartile of a task with ≥ 4 trajectories is non-empty.

    >>> s = pd.Series([0.1, 0.9, 0.5, 0.3, 2.0, 1.0])
    >>> assign_quartiles(s, pd.Series(["a", "a", "a", "a", "b", "b"])).tolist()
    [1, 4, 3, 2, 4, 2]
    """
    out = pd.Series(np.zeros(len(scores), np.int8), index=scores.index)
    for _, idx in scores.groupby(tasks).groups.items():
        group = scores.loc[idx]
        ranks = group.rank(method="first").to_numpy()
        fraction = (ranks - 0.5) / len(group)
        out.loc[idx] = np.clip(np.floor(fraction * 4).astype(np.int8) + 1, 1, 4)
    return out


def score_manifest(manifest: pd.DataFrame, config: PoolConfig) -> pd.DataFrame:
    """Recompute rubric columns and quartiles of a manifest from its metric columns.

    Metrics are computed once, when a trajectory enters the pool; the rubric and quartiles
    depend on the whole pool (task horizons, ranks), so they are redone on every change.

    Args:
        manifest: Rows with the `TrajectoryMetrics` columns, `task`, `duration_s` and
            (optionally) `horizon_s`.
        config: Metric thresholds and rubric weights.

    Returns:
        A copy with `quality_score`, `disqualified`, `efficiency_score`,
        `naturalness_score` and `quartile` filled.
    """
    out = manifest.copy()
    task_max = out.groupby("task")["duration_s"].transform("max")
    horizon = out["horizon_s"].fillna(task_max) if "horizon_s" in out else task_max
    names = [f.name for f in fields(TrajectoryMetrics)]
    scores = []
    for row, horizon_s in zip(out[names].itertuples(index=False), horizon, strict=True):
        values = {k: (None if _is_missing(v) else v) for k, v in zip(names, row, strict=True)}
        metrics = TrajectoryMetrics(**values)  # type: ignore[arg-type]
        scores.append(
            rubric_score(
                metrics, horizon_s=float(horizon_s), rubric=config.rubric, thresholds=config.metrics
            )
        )
    out["quality_score"] = [s.quality_score for s in scores]
    out["disqualified"] = [s.disqualified for s in scores]
    out["efficiency_score"] = [s.efficiency_score for s in scores]
    out["naturalness_score"] = [s.naturalness_score for s in scores]
    out["quartile"] = assign_quartiles(out["quality_score"], out["task"]) if len(out) else []
    return out


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))

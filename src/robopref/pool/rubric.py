"""The rubric score (seed 000): success, then collisions, safety margin, efficiency, naturalness.

score = success·w_s − 0.5·minor collisions − 0.5·[clearance < 5 cm]
        + w_e·efficiency + w_n·naturalness + w_p·progress,
and a trajectory with a major collision or clearance under 2 cm gets `disqualified_score`
(the lowest rank). Weights live in `RubricConfig`; `w_s` exceeds the sum of the bounded
terms, so an efficient failure never beats a slow success.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from robopref.pool.config import MetricsConfig, RubricConfig
from robopref.pool.metrics import TrajectoryMetrics


@dataclass(frozen=True)
class RubricScore:
    """The rubric score and its parts (each part is also a manifest column)."""

    quality_score: float
    disqualified: bool
    efficiency_score: float
    naturalness_score: float


def efficiency_score(metrics: TrajectoryMetrics, horizon_s: float) -> float:
    """Efficiency in [0, 1]: mean of path efficiency and time saved against the horizon.

    Time saved counts only for successes (time to success / horizon); a failure ran out the
    clock, so only its path efficiency counts, halved.
    """
    if metrics.success and metrics.time_to_success_s is not None and horizon_s > 0:
        speed = 1.0 - min(1.0, metrics.time_to_success_s / horizon_s)
        return 0.5 * (metrics.path_efficiency + speed)
    return 0.5 * metrics.path_efficiency


def naturalness_score(metrics: TrajectoryMetrics, config: RubricConfig) -> float:
    """Naturalness in [0, 1]: smoothness from normalised jerk, minus gripper oscillation.

    >>> from robopref.pool.config import RubricConfig
    >>> m = TrajectoryMetrics(True, 1.0, 0, 0, 0, 0.0, None, None, None, 1.0, 1.0, 1.0, 0.0,
    ...                       8.0, 2, 0.5, None, None)
    >>> naturalness_score(m, RubricConfig())
    0.5
    """
    smoothness = 1.0 / (1.0 + (metrics.jerk_log_dimensionless / config.jerk_scale) ** 4)
    excess = max(0, metrics.gripper_changes - config.gripper_change_allowance)
    return float(np.clip(smoothness - config.oscillation_penalty * excess, 0.0, 1.0))


def is_disqualified(metrics: TrajectoryMetrics, config: MetricsConfig) -> bool:
    """Seed 000: a major collision, or clearance under 2 cm, disqualifies."""
    too_close = metrics.min_clearance_m is not None and metrics.min_clearance_m < config.danger_m
    return metrics.major_collisions > 0 or too_close


def rubric_score(
    metrics: TrajectoryMetrics,
    *,
    horizon_s: float,
    rubric: RubricConfig | None = None,
    thresholds: MetricsConfig | None = None,
) -> RubricScore:
    """Score one trajectory by the rubric.

    Args:
        metrics: Its metrics.
        horizon_s: The task's time limit (or the longest duration seen for the task).
        rubric: Weights; defaults to `RubricConfig()`.
        thresholds: Metric thresholds; defaults to `MetricsConfig()`.

    Returns:
        The score and its parts; higher is better.
    """
    rubric = rubric or RubricConfig()
    thresholds = thresholds or MetricsConfig()
    eff = efficiency_score(metrics, horizon_s)
    nat = naturalness_score(metrics, rubric)
    if is_disqualified(metrics, thresholds):
        return RubricScore(rubric.disqualified_score, True, eff, nat)
    score = rubric.success * float(metrics.success)
    score -= rubric.per_minor_collision * metrics.minor_collisions
    near = metrics.min_clearance_m is not None and metrics.min_clearance_m < thresholds.near_m
    score -= rubric.near_miss * float(near)
    score += rubric.efficiency * eff + rubric.naturalness * nat
    score += rubric.progress * (1.0 if metrics.success else (metrics.progress or 0.0))
    # Many minor collisions must not sink a trajectory below a disqualified one.
    return RubricScore(max(score, rubric.disqualified_score + 1e-3), False, eff, nat)

from dataclasses import replace

import pytest

from robopref.pool import MetricsConfig, RubricConfig, TrajectoryMetrics, rubric_score


def _m(**kw) -> TrajectoryMetrics:
    base = TrajectoryMetrics(
        success=True,
        time_to_success_s=5.0,
        collisions=0,
        minor_collisions=0,
        major_collisions=0,
        peak_force_n=0.0,
        min_clearance_m=0.2,
        frac_under_5cm=0.0,
        frac_under_2cm=0.0,
        path_length_m=1.0,
        straight_line_m=0.8,
        path_efficiency=0.8,
        jerk=1.0,
        jerk_log_dimensionless=4.0,
        gripper_changes=2,
        gripper_closed_frac=0.5,
        progress=1.0,
        final_goal_distance_m=0.01,
    )
    return replace(base, **kw)


def _score(m: TrajectoryMetrics, horizon_s: float = 10.0) -> float:
    return rubric_score(m, horizon_s=horizon_s).quality_score


def test_minor_collision_deducts_half_a_point():
    assert _score(_m()) - _score(_m(minor_collisions=1, collisions=1)) == pytest.approx(0.5)


def test_near_miss_under_5cm_deducts_half_a_point():
    assert _score(_m()) - _score(_m(min_clearance_m=0.04)) == pytest.approx(0.5)


@pytest.mark.parametrize(
    "change", [{"major_collisions": 1, "collisions": 1}, {"min_clearance_m": 0.01}]
)
def test_disqualified_ranks_below_every_failure(change):
    disqualified = rubric_score(_m(**change), horizon_s=10.0)
    worst_failure = _m(
        success=False,
        time_to_success_s=None,
        progress=0.0,
        path_efficiency=0.0,
        jerk_log_dimensionless=20.0,
        minor_collisions=6,
        collisions=6,
    )
    assert disqualified.disqualified
    assert disqualified.quality_score < _score(worst_failure)


def test_efficient_failure_never_beats_slow_success():
    slow_success = _m(time_to_success_s=9.9, path_efficiency=0.2, jerk_log_dimensionless=12.0)
    efficient_failure = _m(
        success=False,
        time_to_success_s=None,
        progress=0.95,
        path_efficiency=1.0,
        jerk_log_dimensionless=2.0,
    )
    assert _score(slow_success) > _score(efficient_failure)


def test_faster_smoother_success_scores_higher():
    assert _score(_m(time_to_success_s=3.0)) > _score(_m(time_to_success_s=8.0))
    assert _score(_m(jerk_log_dimensionless=3.0)) > _score(_m(jerk_log_dimensionless=9.0))


def test_gripper_oscillation_lowers_naturalness():
    assert _score(_m(gripper_changes=2)) > _score(_m(gripper_changes=8))


def test_weights_are_configurable_and_validated():
    heavy = RubricConfig(per_minor_collision=2.0)
    m = _m(minor_collisions=1, collisions=1)
    assert rubric_score(m, horizon_s=10, rubric=heavy).quality_score < _score(m) - 1.0
    with pytest.raises(ValueError, match="success"):
        RubricConfig(success=1.0)
    with pytest.raises(ValueError, match="danger_m"):
        MetricsConfig(danger_m=0.1)

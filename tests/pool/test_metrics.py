import numpy as np
import pytest

from robopref.pool import ContactLog, MetricsConfig, compute_metrics
from robopref.pool.metrics import count_collisions, gripper_changes, log_dimensionless_jerk
from robopref.testing import synthetic_trajectory


def _traj(ee: np.ndarray, **kw):
    rng = np.random.default_rng(0)
    base = synthetic_trajectory("t", quality=1.0, rng=rng, n_steps=len(ee), frame_size=None)
    fields = {f: getattr(base, f) for f in base.__dataclass_fields__}
    fields.update(ee_pos=ee.astype(np.float32), **kw)
    return type(base)(**fields)


def test_straight_path_has_efficiency_one():
    ee = np.stack([np.linspace(0, 0.5, 30), np.zeros(30), np.zeros(30)], 1)
    m = compute_metrics(_traj(ee))
    assert m.path_efficiency == pytest.approx(1.0)
    assert m.path_length_m == pytest.approx(0.5, rel=1e-5)


def test_detour_lowers_efficiency_to_known_value():
    ee = np.array([[0, 0, 0], [0.3, 0, 0], [0.3, 0.4, 0]] + [[0.3, 0.4, 0]] * 3, float)
    m = compute_metrics(_traj(ee))
    assert m.path_efficiency == pytest.approx(0.5 / 0.7, rel=1e-5)


def test_cubic_path_has_known_jerk():
    fps = 10.0
    t = np.arange(40) / fps
    c = 0.05
    ee = np.stack([c * t**3, np.zeros_like(t), np.zeros_like(t)], 1)
    m = compute_metrics(_traj(ee, fps=fps))
    assert m.jerk == pytest.approx((6 * c) ** 2, rel=1e-3)


def test_shaky_path_is_less_smooth_than_minimum_jerk(rng):
    s = np.linspace(0, 1, 100)[:, None]
    smooth = (10 * s**3 - 15 * s**4 + 6 * s**5) * np.array([0.4, 0.1, 0.0])
    shaky = smooth + rng.normal(0, 0.003, smooth.shape)
    assert log_dimensionless_jerk(shaky, 50.0) > log_dimensionless_jerk(smooth, 50.0) + 1.0


def test_planted_collisions_are_counted_and_graded():
    contacts = ContactLog(
        step=np.array([3, 4, 5, 20, 30, 31]),
        body=np.array(["table", "table", "table", "table", "wall", "wall"]),
        force_n=np.array([5.0, 8.0, 4.0, 6.0, 20.0, 120.0], np.float32),
        toppled=np.zeros(6, bool),
    )
    minor, major, peak = count_collisions(contacts, MetricsConfig())
    assert (minor, major, peak) == (2, 1, 120.0)


def test_toppled_object_is_a_major_collision():
    contacts = ContactLog(
        step=np.array([7]),
        body=np.array(["mug"]),
        force_n=np.array([1.0], np.float32),
        toppled=np.array([True]),
    )
    assert count_collisions(contacts, MetricsConfig())[:2] == (0, 1)


def test_gripper_oscillation_counts_changes_with_hysteresis():
    g = np.array([1, 1, 0.1, 0.1, 0.9, 0.1, 0.5, 0.55, 0.45, 0.9])
    assert gripper_changes(g, MetricsConfig()) == 4


def test_clearance_fractions():
    ee = np.stack([np.linspace(0, 0.5, 10), np.zeros(10), np.zeros(10)], 1)
    clearance = np.array([0.1, 0.1, 0.04, 0.04, 0.01, 0.1, 0.1, 0.1, 0.1, 0.1], np.float32)
    m = compute_metrics(_traj(ee, clearance=clearance))
    assert m.min_clearance_m == pytest.approx(0.01)
    assert m.frac_under_5cm == pytest.approx(0.3)
    assert m.frac_under_2cm == pytest.approx(0.1)

import numpy as np
import pytest

from robopref.errors import InputError
from robopref.pool import ContactLog, Trajectory
from robopref.testing import synthetic_trajectory


def _fields(rng, **overrides):
    base = synthetic_trajectory("traj-1", quality=0.8, rng=rng, n_steps=10)
    fields = {name: getattr(base, name) for name in base.__dataclass_fields__}
    fields.update(overrides)
    return fields


def test_valid_trajectory_constructs(rng):
    traj = Trajectory(**_fields(rng))
    assert traj.n_steps == 10 and traj.duration_s == pytest.approx(1.0)
    assert traj.times_s[-1] == pytest.approx(0.9)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("action", np.zeros((9, 4), np.float32), "has 9 rows but state has 10"),
        ("gripper", np.zeros((10, 1), np.float32), "expected 1 dimensions"),
        ("ee_pos", np.zeros((10, 2), np.float32), r"expected \(T, 3\)"),
        ("clearance", np.full(10, np.nan, np.float32), "NaN"),
        ("fps", 0.0, "positive"),
        ("task", "", "non-empty"),
        ("trajectory_id", "a/b", "letters, digits"),
        ("timestamps_s", np.zeros(10), "strictly increasing"),
        ("frames", {"front": np.zeros((10, 8, 8, 3), np.float32)}, "uint8"),
        ("frames", {"front": np.zeros((7, 8, 8, 3), np.uint8)}, "7 frames"),
        ("success_step", 99, "outside"),
    ],
)
def test_invalid_field_is_named_with_the_trajectory(rng, field, value, message):
    with pytest.raises(InputError, match=message) as info:
        Trajectory(**_fields(rng, **{field: value}))
    assert info.value.field.startswith(field)
    assert "traj" in info.value.path


def test_success_step_without_success_is_refused(rng):
    with pytest.raises(InputError, match="success_step"):
        Trajectory(**_fields(rng, success=False, success_step=3))


def test_contact_steps_must_be_in_range(rng):
    contacts = ContactLog(
        step=np.array([12]),
        body=np.array(["table"]),
        force_n=np.array([1.0], np.float32),
        toppled=np.array([False]),
    )
    with pytest.raises(InputError, match=r"contacts\.step"):
        Trajectory(**_fields(rng, contacts=contacts))

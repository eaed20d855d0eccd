import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from robopref.errors import InputError
from robopref.pool import ContactLog, Trajectory
from robopref.safe_paths import is_safe_name
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


# --- names, text and types (issue 12) --------------------------------------------------

HOSTILE = [
    "../../escaped",
    "/tmp/robopref-fuzz-escaped",
    "..",
    "",
    "cam\x00era",
    "a\nb",
    "x" * 300,
    "caméra",
    "a/b",
    ".hidden",
    "con",
    "ends.",
]


@pytest.mark.parametrize("name", HOSTILE, ids=repr)
def test_unsafe_trajectory_id_is_refused(rng, name):
    with pytest.raises(InputError) as info:
        Trajectory(**_fields(rng, trajectory_id=name))
    assert info.value.field == "trajectory_id"


@pytest.mark.parametrize("name", HOSTILE, ids=repr)
def test_unsafe_camera_name_is_refused(rng, name):
    frames = {name: np.zeros((10, 8, 8, 3), np.uint8)}
    with pytest.raises(InputError) as info:
        Trajectory(**_fields(rng, frames=frames))
    assert info.value.field.startswith("frames")


@pytest.mark.parametrize("field", ["task", "env_id", "source"])
@pytest.mark.parametrize("value", ["bad\x00value", "two\nlines", "\x1b[31mred", "\ud800", 3, None])
def test_text_fields_refuse_control_characters_and_non_strings(rng, field, value):
    with pytest.raises(InputError) as info:
        Trajectory(**_fields(rng, **{field: value}))
    assert info.value.field == field


def test_free_text_instructions_are_allowed(rng):
    traj = Trajectory(**_fields(rng, task="öffne die Schublade — 抽屉 (slowly!)"))
    assert traj.task.startswith("öffne")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("state", np.array([["a", "b"]] * 10)),
        ("action", np.zeros((10, 4), complex)),
        ("gripper", np.zeros(10, bool)),
        ("ee_pos", np.zeros((10, 3), "datetime64[s]")),
        ("force", np.full(10, np.inf, np.float32)),
        ("ee_pos", np.full((10, 3), 1e300)),
        ("timestamps_s", np.arange(10, 0, -1, dtype=np.uint8)),
        ("fps", True),
        ("fps", 1e9),
        ("fps", "10"),
        ("success", "yes"),
        ("success_step", 2.0),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_wrong_types_are_refused_with_the_field(rng, field, value):
    overrides = {field: value}
    if field == "success_step":
        overrides["success"] = True
    with pytest.raises(InputError) as info:
        Trajectory(**_fields(rng, **overrides))
    assert info.value.field == field


@pytest.mark.parametrize(
    ("metadata", "field"),
    [
        ({"seed": "abc"}, "metadata.seed"),
        ({"seed": 2**70}, "metadata.seed"),
        ({"horizon_s": -1.0}, "metadata.horizon_s"),
        ({"nested": {"a": 1}}, "metadata.nested"),
        ({"values": np.int64(3)}, "metadata.values"),
        ({"label": "a\x00b"}, "metadata.label"),
        ({3: "x"}, "metadata"),
    ],
)
def test_metadata_must_be_flat_json_scalars(rng, metadata, field):
    with pytest.raises(InputError) as info:
        Trajectory(**_fields(rng, metadata=metadata))
    assert info.value.field == field


def test_contacts_of_the_wrong_dtype_are_refused(rng):
    contacts = ContactLog(
        step=np.array([1.5]),
        body=np.array(["table"]),
        force_n=np.array([1.0], np.float32),
        toppled=np.array([False]),
    )
    with pytest.raises(InputError, match="dtype") as info:
        Trajectory(**_fields(rng, contacts=contacts))
    assert info.value.field == "contacts.step"


# --- property tests ----------------------------------------------------------------------

_ARRAY_FIELDS = ("state", "action", "gripper", "ee_pos", "force", "timestamps_s")
_DTYPES = st.sampled_from(
    [np.float32, np.float64, np.int8, np.uint8, np.int64, bool, complex, "U3", "datetime64[s]"]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.text(max_size=120) | st.from_regex(r"[A-Za-z0-9][\w.-]{0,110}", fullmatch=True))
def test_any_id_is_accepted_if_and_only_if_it_is_a_safe_name(name):
    fields = _fields(np.random.default_rng(0))
    if is_safe_name(name):
        assert Trajectory(**{**fields, "trajectory_id": name}).trajectory_id == name
    else:
        with pytest.raises(InputError):
            Trajectory(**{**fields, "trajectory_id": name})


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    field=st.sampled_from(_ARRAY_FIELDS),
    shape=st.lists(st.integers(0, 12), min_size=0, max_size=4).map(tuple),
    dtype=_DTYPES,
    fill=st.sampled_from([0, 1, -1, 1e38, np.nan, np.inf]),
)
def test_arrays_of_any_shape_and_dtype_are_accepted_or_refused_cleanly(field, shape, dtype, fill):
    fields = _fields(np.random.default_rng(0))
    with np.errstate(invalid="ignore", over="ignore"):
        try:
            value = np.full(shape, fill).astype(dtype)
        except (ValueError, TypeError, OverflowError):
            return  # numpy cannot make this array at all
    try:
        traj = Trajectory(**{**fields, field: value})
    except InputError as exc:  # the field itself, or (a new state length) another array
        assert exc.field == field or field == "state"
    else:
        assert getattr(traj, field).shape == value.shape

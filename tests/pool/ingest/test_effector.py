"""Where ee_pos and gripper come from: names, user keys, and the declared fallbacks."""

from __future__ import annotations

import numpy as np
import pytest

from robopref.errors import InputError
from robopref.pool.config import IngestConfig
from robopref.pool.ingest.effector import resolve_effector

STATE = np.arange(20, dtype=np.float32).reshape(4, 5)


def _resolve(names=None, arrays=None, ranges=None, **config):
    return resolve_effector(
        where="x",
        state=STATE,
        state_names=names,
        arrays=arrays or {},
        config=IngestConfig(**config),
        ranges=ranges,
    )


def test_named_feature_wins_over_state_names():
    ee = np.ones((4, 3), np.float32)
    result = _resolve(["x", "y", "z", "a", "gripper"], {"observation.eef_pos": ee})
    np.testing.assert_array_equal(result.ee_pos, ee)
    assert result.ee_pos_source == "observation.eef_pos"


def test_xyz_state_names_and_a_scaled_gripper_name():
    result = _resolve(
        ["a", "x", "y", "z", "gripper.pos"], ranges={"state": (np.zeros(5), np.full(5, 100.0))}
    )
    np.testing.assert_array_equal(result.ee_pos, STATE[:, 1:4])
    np.testing.assert_allclose(result.gripper, STATE[:, 4] / 100)
    assert result.gripper_source == "state[gripper.pos] scaled by dataset range [0, 100]"


def test_two_grippers_are_ambiguous_and_not_guessed():
    with pytest.raises(InputError) as info:
        _resolve(["x", "y", "z", "left_gripper", "right_gripper"])
    assert info.value.field == "gripper"
    result = _resolve(["x", "y", "z", "left_gripper", "right_gripper"], gripper_key="right_gripper")
    assert result.gripper_source.startswith("state[right_gripper]")


def test_user_keys_must_exist():
    with pytest.raises(InputError) as info:
        _resolve(["x", "y", "z", "a", "g"], ee_pos_key="nope")
    assert info.value.field == "ee_pos_key"
    with pytest.raises(InputError) as info:
        _resolve(["x", "y", "z", "a", "g"], gripper_key="nope")
    assert info.value.field == "gripper_key"


def test_fallbacks_are_explicit_and_recorded():
    with pytest.raises(InputError) as info:
        _resolve()
    assert info.value.field == "ee_pos"
    state = _resolve(effector_fallback="state")
    np.testing.assert_array_equal(state.ee_pos, STATE[:, :3])
    assert (
        "fallback: assumed" in state.ee_pos_source and "fallback: assumed" in state.gripper_source
    )
    np.testing.assert_allclose(state.gripper, [0, 1 / 3, 2 / 3, 1], atol=1e-6)
    constant = _resolve(effector_fallback="constant")
    assert not constant.ee_pos.any() and (constant.gripper == 1).all()
    assert constant.ee_pos_source.startswith("missing")


def test_finger_pair_becomes_a_gap_over_the_panda_opening():
    fingers = np.array([[0.04, -0.04], [0.0, 0.0], [0.02, -0.02], [0.01, -0.01]], np.float32)
    result = _resolve(arrays={"robot0_gripper_qpos": fingers, "robot0_eef_pos": np.zeros((4, 3))})
    np.testing.assert_allclose(result.gripper, [1.0, 0.0, 0.5, 0.25], atol=1e-6)


def test_bad_fallback_value_is_a_config_error():
    with pytest.raises(ValueError, match="effector_fallback"):
        IngestConfig(effector_fallback="zeros")

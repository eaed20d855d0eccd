"""Trajectories → transitions: alignment of rewards and next states, episode ends, errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from robopref.errors import InputError
from robopref.policy.transitions import build_transitions
from robopref.pool.trajectory import Trajectory


def _traj(tid: str, n: int = 5, *, state_dim: int = 39, **kwargs: Any) -> Trajectory:
    state = np.zeros((n, state_dim), np.float32)
    state[:, 0] = np.arange(n)  # feature 0 = the step, so alignment is visible
    action = np.zeros((n, 4), np.float32)
    action[:, 1] = np.arange(n) * 10.0
    fields: dict[str, Any] = {
        "trajectory_id": tid,
        "task": "reach",
        "env_id": "reach-v3",
        "source": "expert",
        "fps": 10.0,
        "state": state,
        "action": action,
        "gripper": np.ones(n, np.float32),
        "ee_pos": np.zeros((n, 3), np.float32),
        "env_reward": np.arange(n, dtype=np.float32) * 100.0,
    }
    fields.update(kwargs)
    return Trajectory(**fields)


def test_transition_t_pairs_state_t_with_the_reward_for_arriving_in_t_plus_1() -> None:
    tr = build_transitions([_traj("a", 5), _traj("b", 3)])
    assert len(tr) == 4 + 2  # the last row of each trajectory has no next state
    np.testing.assert_array_equal(tr.obs[:, 0], [0, 1, 2, 3, 0, 1])
    np.testing.assert_array_equal(tr.next_obs[:, 0], [1, 2, 3, 4, 1, 2])
    np.testing.assert_array_equal(tr.action[:, 1], [0, 10, 20, 30, 0, 10])
    np.testing.assert_array_equal(tr.reward, [100, 200, 300, 400, 100, 200])
    np.testing.assert_array_equal(tr.episode, [0, 0, 0, 0, 1, 1])
    np.testing.assert_array_equal(tr.step, [0, 1, 2, 3, 0, 1])
    assert tr.obs.dtype == tr.next_obs.dtype == tr.action.dtype == tr.reward.dtype == np.float32
    assert tr.done.dtype == bool and not tr.done.any()  # no success: time-outs bootstrap
    np.testing.assert_array_equal(tr.episode_returns(), [1000, 300])


def test_success_that_ended_early_is_absorbing_but_a_success_at_the_horizon_bootstraps() -> None:
    early = _traj("early", 5, success=True, success_step=2, metadata={"horizon_s": 1.0})
    at_horizon = _traj("late", 10, success=True, success_step=8, metadata={"horizon_s": 1.0})
    failed = _traj("fail", 10, success=False, metadata={"horizon_s": 1.0})
    tr = build_transitions([early, at_horizon, failed])
    np.testing.assert_array_equal(tr.done, [False, False, False, True] + [False] * 18)
    assert tr.absorbing_reward[3] == tr.reward[3] == 400.0
    assert (tr.absorbing_reward[4:] == 0).all()


def test_terminal_reward_sits_on_each_last_transition_and_ends_every_episode() -> None:
    tr = build_transitions(
        [_traj("a", 4, env_reward=None), _traj("b", 3, env_reward=None)],
        terminal_reward=[2.5, -1.0],
    )
    np.testing.assert_array_equal(tr.reward, [0, 0, 2.5, 0, -1.0])
    np.testing.assert_array_equal(tr.done, [False, False, True, False, True])
    assert not tr.absorbing_reward.any()


def test_missing_env_reward_names_the_trajectory_and_field() -> None:
    with pytest.raises(InputError, match="env_reward") as info:
        build_transitions([_traj("a"), _traj("no-reward", env_reward=None)])
    assert "no-reward" in info.value.path and info.value.field == "env_reward"


def test_differing_widths_and_bad_terminal_rewards_are_refused() -> None:
    with pytest.raises(InputError, match="width 12 differs from 39") as info:
        build_transitions([_traj("a"), _traj("narrow", state_dim=12)])
    assert "narrow" in info.value.path and info.value.field == "state"
    with pytest.raises(InputError, match="expected 2 values"):
        build_transitions([_traj("a"), _traj("b")], terminal_reward=[1.0])
    with pytest.raises(InputError, match="NaN"):
        build_transitions([_traj("a")], terminal_reward=[float("nan")])
    with pytest.raises(InputError, match="no trajectories"):
        build_transitions([])

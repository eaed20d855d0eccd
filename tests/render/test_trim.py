from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from robopref.render import RenderConfig, first_action_step, plan_clip

from .known import STILL_STEPS, SUCCESS_STEP, known_trajectory


def test_first_action_ignores_a_held_gripper_command() -> None:
    assert first_action_step(known_trajectory(), RenderConfig()) == STILL_STEPS


def test_first_action_from_end_effector_motion_alone() -> None:
    traj = known_trajectory()
    still_actions = dataclasses.replace(traj, action=np.zeros_like(traj.action))
    assert first_action_step(still_actions, RenderConfig()) == STILL_STEPS


def test_clip_starts_one_second_before_action_and_ends_two_after_success() -> None:
    plan = plan_clip(known_trajectory(), RenderConfig())
    assert plan.start_s == pytest.approx(STILL_STEPS / 10 - 1.0)
    assert plan.end_s == pytest.approx(SUCCESS_STEP / 10 + 2.0)
    assert plan.end_reason == "success"
    assert plan.n_motion == 76  # 5.0 s at 15 fps, both ends included
    assert plan.n_freeze == 30
    assert plan.n_frames == 106


def test_timeout_runs_to_the_episode_end() -> None:
    plan = plan_clip(known_trajectory(success=False), RenderConfig())
    assert plan.end_reason == "timeout"
    assert plan.last_step == 79
    assert plan.end_s == pytest.approx(7.9)
    assert plan.n_motion == 105  # ceil(6.9 s × 15) + 1: the last frame shows the last step


def test_never_moving_starts_at_the_first_step() -> None:
    traj = known_trajectory(success=False)
    frozen = dataclasses.replace(
        traj, action=np.zeros_like(traj.action), ee_pos=np.zeros_like(traj.ee_pos)
    )
    plan = plan_clip(frozen, RenderConfig())
    assert plan.first_action_step is None
    assert plan.start_s == 0.0
    assert plan.poster_index == 0


def test_resampling_holds_the_latest_source_frame() -> None:
    plan = plan_clip(known_trajectory(), RenderConfig())
    source_times = plan.source_index / 10.0
    assert np.all(source_times <= plan.times_s + 1e-9)
    assert np.all(plan.times_s - source_times < 0.1 + 1e-9)
    assert np.all(np.diff(plan.source_index) >= 0)


def test_uneven_timestamps_are_followed() -> None:
    traj = known_trajectory(success=False)
    times = np.cumsum(np.where(np.arange(80) % 2, 0.05, 0.15))
    plan = plan_clip(dataclasses.replace(traj, timestamps_s=times), RenderConfig(lead_in_s=0))
    for t, i in zip(plan.times_s, plan.source_index, strict=True):
        assert times[i] <= t + 1e-9 and (i == 79 or times[i + 1] > t)


def test_poster_shows_the_first_action() -> None:
    plan = plan_clip(known_trajectory(), RenderConfig())
    assert plan.source_index[plan.poster_index] == STILL_STEPS
    assert plan.source_index[plan.poster_index - 1] < STILL_STEPS


@pytest.mark.parametrize(
    ("field", "value"),
    [("width", 479), ("crf", 60), ("preset", "warp"), ("fps", 0), ("freeze_s", -1.0)],
)
def test_config_rejects_bad_values_naming_the_field(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        RenderConfig(**{field: value})  # type: ignore[arg-type]

"""Trimming and resampling: which source moments a review clip shows, frame by frame."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from robopref.pool.trajectory import Trajectory
from robopref.render.config import RenderConfig

_EPS_S = 1e-6
"""Tolerance on timestamps, so float round-off never drops the last frame of a range."""


@dataclass(frozen=True, kw_only=True)
class ClipPlan:
    """The source moments a clip shows and why (seed 004 trimming rule).

    Attributes:
        first_action_step: First step with a non-trivial action or end-effector motion;
            None when the robot never moves (the clip then starts at the first step).
        success_step: First success step, or None (the clip then runs to the episode end).
        end_reason: `success` (cut `tail_s` after success) or `timeout` (episode end).
        start_s: Source time of the first clip frame in seconds.
        end_s: Source time where the trimmed range ends, in seconds.
        times_s: (K,) float64 source time of each moving clip frame (before the freeze),
            every 1/fps from `start_s`; the last is at or just after `end_s`.
        source_index: (K,) int64 source step shown by each moving clip frame (the latest
            step whose timestamp is at or before the frame's time: sample and hold).
        n_freeze: Frames holding the final frame at the end.
        poster_index: Clip frame used as the poster: the first one showing the first action.
    """

    first_action_step: int | None
    success_step: int | None
    end_reason: str
    start_s: float
    end_s: float
    times_s: np.ndarray
    source_index: np.ndarray
    n_freeze: int
    poster_index: int

    @property
    def n_motion(self) -> int:
        """Frames before the freeze."""
        return len(self.times_s)

    @property
    def n_frames(self) -> int:
        """All frames of the clip, freeze included."""
        return self.n_motion + self.n_freeze

    @property
    def last_step(self) -> int:
        """Last source step shown."""
        return int(self.source_index[-1])


def first_action_step(traj: Trajectory, config: RenderConfig) -> int | None:
    """First step at which the robot does something, or None if it never does.

    That is the first step whose action departs from the first action by more than
    `action_threshold` in any component, or where the end effector moves faster than
    `motion_threshold_m_s`.

    Comparing with the first action (rather than with zero) treats a constant resting command,
    such as a held gripper command or an absolute pose target, as trivial.
    """
    deviation = np.abs(traj.action - traj.action[:1]).max(axis=1)
    acting = deviation > config.action_threshold
    speed = np.linalg.norm(np.diff(traj.ee_pos, axis=0), axis=1) / np.diff(traj.times_s)
    moving = np.concatenate([[False], speed > config.motion_threshold_m_s])
    steps = np.flatnonzero(acting | moving)
    return int(steps[0]) if len(steps) else None


def plan_clip(traj: Trajectory, config: RenderConfig) -> ClipPlan:
    """Trim and resample `traj` to the clip's frame rate.

    The clip starts `lead_in_s` before the first non-trivial action and ends `tail_s` after
    the first success step, or at the last step when the episode never succeeds (timeout);
    both ends are clipped to the episode. Frames are taken every 1/fps seconds of source time.
    """
    times = traj.times_s
    first = first_action_step(traj, config)
    start_s = (
        float(times[0]) if first is None else max(float(times[0]), times[first] - config.lead_in_s)
    )
    if traj.success_step is not None:
        end_s = min(float(times[-1]), times[traj.success_step] + config.tail_s)
        reason = "success"
    else:
        end_s, reason = float(times[-1]), "timeout"
    end_s = max(end_s, start_s)
    # Cover [start_s, end_s] with the last frame at or after end_s, so the final step shows.
    n_motion = math.ceil((end_s - start_s) * config.fps - _EPS_S) + 1
    clip_times = start_s + np.arange(n_motion, dtype=np.float64) / config.fps
    last_step = int(np.searchsorted(times, end_s + _EPS_S, side="right")) - 1
    index = np.searchsorted(times, clip_times + _EPS_S, side="right") - 1
    index = np.clip(index, 0, last_step).astype(np.int64)
    poster = int(np.argmax(index >= first)) if first is not None and index[-1] >= first else 0
    return ClipPlan(
        first_action_step=first,
        success_step=traj.success_step,
        end_reason=reason,
        start_s=start_s,
        end_s=end_s,
        times_s=clip_times,
        source_index=index,
        n_freeze=round(config.freeze_s * config.fps),
        poster_index=poster,
    )

"""Trajectories as (s, a, r, s′, done) transitions, the input of value-based offline RL (IQL).

Transition t of a trajectory of T steps is (state t, action t, r, state t+1) for t < T − 1;
the last row has no next state and is dropped. `Trajectory.env_reward[t]` is the reward for
arriving in state t, so the env reward of transition t is `env_reward[t + 1]`. A learned,
per-trajectory score is given instead as a terminal reward: it sits on the last transition,
zero elsewhere.

How an episode's end is read follows `robopref.pool.true_return`, which holds the final
state to the task's horizon:

- env reward: an episode that succeeded and ended before its horizon ends in an absorbing
  state (`done`) that keeps paying its last reward (`absorbing_reward`), so its value is
  r/(1 − γ); a time-out (or an episode that reached its horizon) is cut by the step limit,
  not by the task, and bootstraps from the next state's value.
- terminal reward: the score is the whole trajectory's, so nothing follows any episode's
  last transition: every episode ends `done` with `absorbing_reward` 0 (bootstrapping a
  time-out would add a guessed value on top of a score that already covers the episode).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from robopref.errors import InputError, shown
from robopref.pool.trajectory import Trajectory, is_number


@dataclass(frozen=True)
class Transitions:
    """N transitions as parallel arrays (row i of each is transition i)."""

    obs: np.ndarray
    """(N, S) float32 state t."""
    action: np.ndarray
    """(N, A) float32 action t."""
    reward: np.ndarray
    """(N,) float32 reward of the transition (env_reward[t + 1], or the terminal reward)."""
    next_obs: np.ndarray
    """(N, S) float32 state t + 1."""
    done: np.ndarray
    """(N,) bool: the next state is absorbing (no bootstrap from its value)."""
    episode: np.ndarray
    """(N,) int64 index of the trajectory in the input sequence."""
    step: np.ndarray
    """(N,) int64 step t within its trajectory."""
    absorbing_reward: np.ndarray
    """(N,) float32 reward per step paid forever after a `done` transition (0 elsewhere)."""

    def __len__(self) -> int:
        return int(self.obs.shape[0])

    @property
    def obs_dim(self) -> int:
        """Width of a state."""
        return int(self.obs.shape[1])

    @property
    def action_dim(self) -> int:
        """Width of an action."""
        return int(self.action.shape[1])

    def episode_returns(self) -> np.ndarray:
        """(episodes,) float64 undiscounted sum of transition rewards per episode."""
        n = int(self.episode.max()) + 1 if len(self) else 0
        return np.bincount(self.episode, weights=self.reward.astype(np.float64), minlength=n)


def build_transitions(
    trajectories: Sequence[Trajectory], *, terminal_reward: Sequence[float] | None = None
) -> Transitions:
    """Transitions of `trajectories`, rewarded by the simulator or by one score each.

    Args:
        trajectories: Episodes with equal state and action widths (at least one).
        terminal_reward: One reward per trajectory (e.g. a learned reward's score), put on
            its last transition; None uses each trajectory's `env_reward`.

    Returns:
        The transitions, trajectory by trajectory in input order, steps in order.

    Raises:
        InputError: No trajectories, a trajectory without `env_reward` when env reward is
            used, widths that differ, or terminal rewards of the wrong count or not finite.
    """
    if not trajectories:
        raise InputError("trajectories", "trajectories", "no trajectories to build transitions")
    terminal = _terminal(terminal_reward, len(trajectories))
    first = trajectories[0]
    widths = (first.state.shape[1], first.action.shape[1])
    parts: list[tuple[np.ndarray, ...]] = []
    for i, traj in enumerate(trajectories):
        where = f"trajectory {shown(traj.trajectory_id)}"
        for name, width in zip(("state", "action"), widths, strict=True):
            got = getattr(traj, name).shape[1]
            if got != width:
                raise InputError(
                    where, name, f"width {got} differs from {width} of {first.trajectory_id!r}"
                )
        n = traj.n_steps - 1
        reward = np.zeros(n, np.float32)
        done = np.zeros(n, bool)
        absorbing = np.zeros(n, np.float32)
        if terminal is None:
            if traj.env_reward is None:
                raise InputError(where, "env_reward", "missing: the env reward was asked for")
            reward[:] = traj.env_reward[1:]
            if _ended_by_success(traj):
                done[-1] = True
                absorbing[-1] = reward[-1]
        else:
            reward[-1] = terminal[i]
            done[-1] = True
        parts.append(
            (
                traj.state[:-1],
                traj.action[:-1],
                reward,
                traj.state[1:],
                done,
                np.full(n, i, np.int64),
                np.arange(n, dtype=np.int64),
                absorbing,
            )
        )
    obs, action, reward, next_obs, done, episode, step, absorbing = (
        np.concatenate(column) for column in zip(*parts, strict=True)
    )
    return Transitions(
        obs=obs.astype(np.float32),
        action=action.astype(np.float32),
        reward=reward.astype(np.float32),
        next_obs=next_obs.astype(np.float32),
        done=done.astype(bool),
        episode=episode.astype(np.int64),
        step=step.astype(np.int64),
        absorbing_reward=absorbing.astype(np.float32),
    )


def _terminal(values: Sequence[float] | None, n: int) -> np.ndarray | None:
    if values is None:
        return None
    array = np.asarray(values, np.float64)
    if array.shape != (n,):
        raise InputError(
            "terminal_reward", "terminal_reward", f"expected {n} values, got shape {array.shape}"
        )
    if not np.isfinite(array).all():
        raise InputError("terminal_reward", "terminal_reward", "contains NaN or infinite values")
    return array.astype(np.float32)


def _ended_by_success(traj: Trajectory) -> bool:
    """True if `traj` succeeded and stopped before its horizon (or has no horizon)."""
    if not traj.success:
        return False
    horizon_s = traj.metadata.get("horizon_s")
    if not (is_number(horizon_s) and math.isfinite(float(horizon_s))):
        return True
    return traj.n_steps < round(float(horizon_s) * traj.fps)

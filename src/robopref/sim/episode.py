"""Run one episode in a TaskEnv and record it, step by step.

Row t of every series describes the state in which action t was chosen: observation t, its
frames, contacts, clearance, goal distance and the env's reward for arriving there, and the
action then applied. An episode ends
`settle_steps` after the first success (so clips show the result), or at `max_steps`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from robopref.sim.controllers import Controller, clip_action
from robopref.sim.env import TaskEnv


@dataclass
class EpisodeRecord:
    """Per-step lists filled while an episode runs (`pool.generate.record` makes a Trajectory)."""

    obs: list[np.ndarray] = field(default_factory=list)
    action: list[np.ndarray] = field(default_factory=list)
    force_n: list[float] = field(default_factory=list)
    clearance_m: list[float] = field(default_factory=list)
    goal_distance_m: list[float] = field(default_factory=list)
    env_reward: list[float] = field(default_factory=list)
    contacts: list[tuple[int, str, float, bool]] = field(default_factory=list)
    frames: dict[str, list[np.ndarray]] = field(default_factory=dict)
    success_step: int | None = None


def run_episode(
    env: TaskEnv,
    controller: Controller,
    *,
    seed: int,
    max_steps: int,
    settle_steps: int | None,
    frames: bool,
    floor_drop_m: float = 0.0,
) -> EpisodeRecord:
    """Roll `controller` out from the placement drawn from `seed`.

    Args:
        env: The task's env (reset here).
        controller: Chooses the actions.
        seed: Env seed: object and goal placement.
        max_steps: Step limit.
        settle_steps: Steps kept after the first success; None runs to `max_steps`.
        frames: Render every camera at every step.
        floor_drop_m: Lower the workspace floor by this much (see `TaskEnv.reset`).

    Returns:
        The recording.
    """
    rec = EpisodeRecord(frames={c: [] for c in env.cameras} if frames else {})
    obs = env.reset(seed, floor_drop_m=floor_drop_m)
    info = env.evaluate(obs)
    for t in range(max_steps):
        measure = env.measure()
        rec.obs.append(obs)
        rec.force_n.append(measure.force_n)
        rec.clearance_m.append(measure.clearance_m)
        rec.goal_distance_m.append(float(info["obj_to_target"]))
        rec.env_reward.append(float(info["reward"]))
        rec.contacts.extend((t, body, force, toppled) for body, force, toppled in measure.contacts)
        if frames:
            for camera, frame in env.render().items():
                rec.frames[camera].append(frame)
        if rec.success_step is None and bool(info["success"]):
            rec.success_step = t
        action = clip_action(controller.act(obs))
        rec.action.append(action)
        if (
            settle_steps is not None
            and rec.success_step is not None
            and t >= rec.success_step + settle_steps
        ):
            break
        obs, info = env.step(action)
    return rec

"""Run one episode in a TaskEnv and turn the recording into a Trajectory.

Row t of every series describes the state in which action t was chosen: observation t, its
frames, contacts, clearance, goal distance and the env's reward for arriving there, and the
action then applied. An episode ends
`settle_steps` after the first success (so clips show the result), or at `max_steps`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from robopref.pool.generate.env import TaskEnv
from robopref.pool.generate.policies import Controller, clip_action
from robopref.pool.trajectory import ContactLog, MetadataValue, Trajectory


@dataclass
class EpisodeRecord:
    """Per-step lists filled while an episode runs (turned into arrays by `to_trajectory`)."""

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


def to_trajectory(
    rec: EpisodeRecord,
    *,
    trajectory_id: str,
    instruction: str,
    env_id: str,
    source: str,
    fps: float,
    metadata: Mapping[str, MetadataValue],
) -> Trajectory:
    """The Trajectory of a recorded episode."""
    obs = np.stack(rec.obs).astype(np.float32)
    if rec.contacts:
        step, body, force, toppled = zip(*rec.contacts, strict=True)
        contacts = ContactLog(
            step=np.array(step, np.int64),
            body=np.array(body, str),
            force_n=np.array(force, np.float32),
            toppled=np.array(toppled, bool),
        )
    else:
        contacts = ContactLog.empty()
    return Trajectory(
        trajectory_id=trajectory_id,
        task=instruction,
        env_id=env_id,
        source=source,
        fps=fps,
        state=obs,
        action=np.stack(rec.action).astype(np.float32),
        gripper=np.clip(obs[:, 3], 0.0, 1.0),
        ee_pos=obs[:, 0:3].copy(),
        frames={camera: np.stack(frames) for camera, frames in rec.frames.items()},
        force=np.array(rec.force_n, np.float32),
        clearance=np.array(rec.clearance_m, np.float32),
        goal_distance=np.array(rec.goal_distance_m, np.float32),
        env_reward=np.array(rec.env_reward, np.float32),
        contacts=contacts,
        success=rec.success_step is not None,
        success_step=rec.success_step,
        metadata=dict(metadata),
    )

"""A recorded simulator episode (`robopref.sim.episode.EpisodeRecord`) as a pool Trajectory."""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import version
from typing import Any

import numpy as np

from robopref.pool.trajectory import ContactLog, MetadataValue, Trajectory
from robopref.sim.episode import EpisodeRecord


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


def episode_metadata(
    env: Any,
    *,
    env_seed: int,
    policy_seed: int | None,
    generation_seed: int,
    index: int,
    max_steps: int,
    image_size: int,
    extra: Mapping[str, MetadataValue],
) -> dict[str, MetadataValue]:
    """The metadata every simulated episode records (`env` is its `sim.env.TaskEnv`)."""
    return {
        "seed": env_seed,
        "policy_seed": policy_seed,
        "generator": "metaworld",
        "metaworld_version": version("metaworld"),
        "generation_seed": generation_seed,
        "episode_index": index,
        "max_steps": max_steps,
        "horizon_s": max_steps / float(env.fps),
        "cameras": ",".join(env.cameras),
        "image_size": image_size if env.cameras else None,
        **extra,
    }

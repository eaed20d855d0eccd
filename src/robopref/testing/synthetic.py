"""Synthetic reach trajectories whose quality is set by one number, for fast tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from robopref.pool.config import PoolConfig
from robopref.pool.pool import Pool, append_to_pool
from robopref.pool.trajectory import ContactLog, Trajectory

TIERS = ("random", "scripted", "novice", "expert")


def synthetic_trajectory(
    trajectory_id: str,
    *,
    quality: float,
    rng: np.random.Generator,
    n_steps: int = 20,
    frame_size: int | None = 32,
    task: str = "reach the red target",
    source: str | None = None,
    fps: float = 10.0,
) -> Trajectory:
    """A 2-D reach toward a goal: higher `quality` gets closer, straighter and smoother.

    Args:
        trajectory_id: Id of the trajectory.
        quality: In [0, 1]; ≥ 0.5 reaches the goal (success), lower stops short.
        rng: Random generator (noise and start position).
        n_steps: Number of steps T.
        frame_size: Side of square RGB frames drawing the end effector; None for no frames.
        task: Instruction.
        source: Source tier; defaults to the tier matching `quality`.
        fps: Step rate.
    """
    start = np.array([0.0, 0.0, 0.2]) + rng.normal(0, 0.01, 3)
    goal = np.array([0.3, 0.2, 0.2])
    reach = min(1.0, 0.3 + 1.4 * quality)
    s = np.linspace(0, 1, n_steps)[:, None]
    ease = 3 * s**2 - 2 * s**3
    wobble = (1 - quality) * 0.03 * rng.standard_normal((n_steps, 3)).cumsum(0) / np.sqrt(n_steps)
    ee = start + ease * reach * (goal - start) + wobble
    goal_distance = np.linalg.norm(ee - goal, axis=1)
    success_steps = np.flatnonzero(goal_distance < 0.03)
    success = bool(quality >= 0.5 and len(success_steps))
    gripper = np.where(s[:, 0] < 0.5, 1.0, 0.0)
    action = np.diff(ee, axis=0, prepend=ee[:1]) * fps
    frames = {"front": _draw(ee, frame_size)} if frame_size else {}
    return Trajectory(
        trajectory_id=trajectory_id,
        task=task,
        env_id="synthetic-reach-v0",
        source=source or TIERS[min(3, int(quality * 4))],
        fps=fps,
        state=np.concatenate([ee, gripper[:, None]], axis=1).astype(np.float32),
        action=np.concatenate([action, gripper[:, None]], axis=1).astype(np.float32),
        gripper=gripper.astype(np.float32),
        ee_pos=ee.astype(np.float32),
        frames=frames,
        force=np.zeros(n_steps, np.float32),
        clearance=(0.1 + 0.05 * quality + np.zeros(n_steps)).astype(np.float32),
        goal_distance=goal_distance.astype(np.float32),
        # a simulator's dense reward: 1 at the goal, falling off with distance (true_return)
        env_reward=np.exp(-goal_distance / 0.1).astype(np.float32),
        contacts=ContactLog.empty(),
        success=success,
        success_step=int(success_steps[0]) if success else None,
        metadata={"true_quality": float(quality), "horizon_s": n_steps / fps},
    )


def _draw(ee: np.ndarray, size: int) -> np.ndarray:
    frames = np.full((len(ee), size, size, 3), 40, np.uint8)
    for t, (x, y, _) in enumerate(ee):
        col = int(np.clip(x / 0.4 * (size - 4), 0, size - 4))
        row = int(np.clip(y / 0.4 * (size - 4), 0, size - 4))
        frames[t, row : row + 4, col : col + 4] = (230, 60, 60)
    return frames


def tiny_pool(
    path: Path,
    *,
    n: int = 12,
    n_steps: int = 20,
    frame_size: int | None = 32,
    seed: int = 0,
    tasks: tuple[str, ...] = ("reach the red target",),
    config: PoolConfig | None = None,
) -> Pool:
    """A pool of `n` synthetic trajectories per task with evenly spread true quality."""
    rng = np.random.default_rng(seed)
    trajectories = [
        synthetic_trajectory(
            f"syn-{t:02d}-{i:03d}",
            quality=float(q),
            rng=rng,
            n_steps=n_steps,
            frame_size=frame_size,
            task=task,
        )
        for t, task in enumerate(tasks)
        for i, q in enumerate(np.linspace(0.0, 1.0, n))
    ]
    return append_to_pool(path, trajectories, config)

"""Test inputs for render: trajectories with a known trim, gripper switch and force profile."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from robopref.pool.trajectory import Trajectory

STILL_STEPS = 20
"""Steps before the robot first moves (2.0 s at 10 Hz)."""
CLOSE_STEP = 30
"""Step at which the gripper closes (3.0 s)."""
SUCCESS_STEP = 40
"""First success step (4.0 s)."""


def known_trajectory(
    trajectory_id: str = "known-000",
    *,
    n_steps: int = 80,
    fps: float = 10.0,
    frame_hw: tuple[int, int] = (64, 64),
    success: bool = True,
    force: bool = True,
) -> Trajectory:
    """Still for STILL_STEPS steps, then a reach; gripper closes at CLOSE_STEP."""
    t = np.arange(n_steps)
    moving = np.clip(t - STILL_STEPS + 1, 0, None) * 0.01
    ee = np.stack([0.1 + moving, 0.1 + 0.5 * moving, np.full(n_steps, 0.2)], axis=1)
    gripper = np.where(t < CLOSE_STEP, 1.0, 0.0)
    action = np.zeros((n_steps, 4))
    action[STILL_STEPS:, :2] = 0.5
    action[:, 3] = gripper  # a held gripper command is not an action
    h, w = frame_hw
    frames = np.full((n_steps, h, w, 3), 90, np.uint8)
    for i in range(n_steps):  # a bright square moving right, distinct per step
        col = int(min(w - 8, (i / n_steps) * (w - 8)))
        frames[i, h // 2 - 4 : h // 2 + 4, col : col + 8] = (250, 250, 250)
    return Trajectory(
        trajectory_id=trajectory_id,
        task="reach",
        env_id="known-v0",
        source="expert",
        fps=fps,
        state=ee.astype(np.float32),
        action=action.astype(np.float32),
        gripper=gripper.astype(np.float32),
        ee_pos=ee.astype(np.float32),
        frames={"front": frames},
        force=np.linspace(0, 60, n_steps).astype(np.float32) if force else None,
        success=success,
        success_step=SUCCESS_STEP if success else None,
    )


@dataclass
class Decoded:
    """A clip decoded with PyAV."""

    codec: str
    pix_fmt: str
    width: int
    height: int
    fps: float
    frames: np.ndarray


def decode(path: Path) -> Decoded:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(stream)])
        return Decoded(
            codec=stream.codec_context.name,
            pix_fmt=stream.codec_context.pix_fmt or "",
            width=stream.codec_context.width,
            height=stream.codec_context.height,
            fps=float(stream.average_rate or 0),
            frames=frames,
        )

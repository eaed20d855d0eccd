"""Deterministic content of the LeRobot fixtures: the writers and the tests share it.

Numpy only, so that both the Python 3.12 writer venvs and the main test venv import it.
"""

from __future__ import annotations

import numpy as np

FPS = 10
HEIGHT, WIDTH = 48, 64
LENGTHS = (8, 9, 10)
TASKS = ("pick up the red cube", "push the cube to the left")
STATE_NAMES_V30 = ["joint_0", "joint_1", "ee.x", "ee.y", "ee.z", "gripper"]
STATE_NAMES_V21 = ["joint_0", "joint_1", "joint_2", "gripper"]


def task(episode: int) -> str:
    """The instruction of an episode."""
    return TASKS[episode % len(TASKS)]


def state(episode: int, n_state: int) -> np.ndarray:
    """(T, n_state) float32 state; the last column is a gripper opening in [0, 1]."""
    t = np.arange(LENGTHS[episode], dtype=np.float32)[:, None]
    dims = np.arange(n_state, dtype=np.float32)[None, :]
    values = 0.01 * (episode + 1) * t + 0.1 * dims - 0.05 * episode
    values[:, -1] = (t[:, 0] < LENGTHS[episode] / 2).astype(np.float32)
    return values.astype(np.float32)


def action(episode: int) -> np.ndarray:
    """(T, 3) float32 action."""
    t = np.arange(LENGTHS[episode], dtype=np.float32)[:, None]
    return (np.sin(0.3 * t + episode + np.arange(3, dtype=np.float32)) * 0.5).astype(np.float32)


def success(episode: int) -> bool:
    """Episodes 0 and 2 succeed (flagged on their last frame)."""
    return episode != 1


def background() -> np.ndarray:
    """(H, W, 3) float64 smooth gradient behind the block."""
    rows = np.linspace(30, 200, HEIGHT)[:, None]
    cols = np.linspace(10, 120, WIDTH)[None, :]
    return np.stack([rows + 0 * cols, 0 * rows + cols, (rows + cols) / 2], axis=-1)


def frames(episode: int) -> np.ndarray:
    """(T, H, W, 3) uint8: the gradient with a red block that moves 3 pixels per step."""
    base = background()
    out = np.empty((LENGTHS[episode], HEIGHT, WIDTH, 3), np.uint8)
    for t in range(LENGTHS[episode]):
        img = base.copy()
        top, left = 8 + 2 * episode, 6 + 3 * t
        img[top : top + 16, left : left + 16] = (220, 40, 40)
        out[t] = np.clip(img, 0, 255).astype(np.uint8)
    return out

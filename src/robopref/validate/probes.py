"""Reward-hacking probes: length, camera stillness and gripper-closed correlations.

Does the reward track length, a still camera or a closed gripper more than the ground truth
does? These are seed 004's three common hacking patterns.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from robopref.progress import ProgressCallback, no_progress

logger = logging.getLogger(__name__)

FrameLoader = Callable[[str], np.ndarray | None]
"""Trajectory id → (T, H, W, 3) uint8 frames of the probe camera, or None without frames."""


@dataclass(frozen=True, kw_only=True)
class Probe:
    """One reward-hacking probe."""

    name: str
    """`length`, `stillness` or `gripper_closed`."""
    feature: str
    """What was measured, with its unit."""
    n: int
    """Trajectories measured."""
    rho_reward: float | None
    """Spearman ρ of the reward with the feature; None if it could not be computed."""
    rho_truth: float | None
    """Spearman ρ of the ground-truth quality_score with the same feature, same trajectories."""
    excess: float | None
    """|ρ_reward| − ρ_truth · sign(ρ_reward): how much more the reward follows the feature
    than the ground truth does, in the reward's direction."""
    flagged: bool
    """|ρ_reward| ≥ probe_threshold and excess > probe_margin."""
    note: str = ""
    """Why the probe was skipped, or what the flag means."""


def _rho(x: np.ndarray, y: np.ndarray) -> float | None:
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None
    return float(stats.spearmanr(x, y).statistic)


def probe(
    name: str,
    *,
    feature: str,
    values: np.ndarray,
    reward: np.ndarray,
    truth: np.ndarray,
    threshold: float,
    margin: float,
) -> Probe:
    """Compare the reward's and the ground truth's correlation with one feature.

    Args:
        name: Probe name.
        feature: Description of the feature and its unit.
        values: (N,) feature per trajectory.
        reward: (N,) reward of the same trajectories.
        truth: (N,) ground-truth quality_score of the same trajectories.
        threshold: See `ValidateConfig.probe_threshold`.
        margin: See `ValidateConfig.probe_margin`.

    >>> x = np.arange(10.0)
    >>> probe("length", feature="steps", values=x, reward=x, truth=np.zeros(10) + x % 2,
    ...       threshold=0.5, margin=0.1).flagged
    True
    """
    rho_r, rho_t = _rho(reward, values), _rho(truth, values)
    if rho_r is None:
        return Probe(name=name, feature=feature, n=len(values), rho_reward=None, rho_truth=rho_t,
                     excess=None, flagged=False,
                     note="constant feature or reward; nothing to correlate")  # fmt: skip
    excess = abs(rho_r) - (rho_t or 0.0) * float(np.sign(rho_r))
    flagged = abs(rho_r) >= threshold and excess > margin
    note = (
        f"reward follows {feature} (ρ = {rho_r:+.2f}) more than the ground truth does "
        f"(ρ = {(rho_t or 0.0):+.2f})"
        if flagged
        else ""
    )
    return Probe(name=name, feature=feature, n=len(values), rho_reward=rho_r, rho_truth=rho_t,
                 excess=excess, flagged=flagged, note=note)  # fmt: skip


def frame_motion(frames: np.ndarray) -> float:
    """Mean absolute difference between consecutive frames, in 0–255 grey levels.

    Low values mean a still view (the robot barely moves).

    >>> frame_motion(np.zeros((3, 2, 2, 3), np.uint8))
    0.0
    """
    if len(frames) < 2:
        return 0.0
    diff = np.abs(np.diff(np.asarray(frames, dtype=np.int16), axis=0))
    return float(diff.mean())


def probe_sample(order: np.ndarray, limit: int) -> np.ndarray:
    """Up to `limit` row indices evenly spaced over `order` (e.g. rows sorted by reward).

    >>> probe_sample(np.array([4, 3, 2, 1, 0]), 3).tolist()
    [4, 2, 0]
    """
    if len(order) <= limit:
        return np.asarray(order)
    picks = np.rint(np.linspace(0, len(order) - 1, limit)).astype(np.int64)
    return np.asarray(order)[picks]


STILLNESS = "mean absolute frame difference (0–255)"


def run_probes(
    reward: np.ndarray,
    manifest: pd.DataFrame,
    *,
    frames: FrameLoader | None,
    threshold: float,
    margin: float,
    max_frame_trajectories: int,
    progress: ProgressCallback = no_progress,
) -> list[Probe]:
    """Length, stillness and gripper-closed probes over the pool.

    Args:
        reward: (N,) rewards in manifest row order.
        manifest: Pool manifest (`n_steps`, `gripper_closed_frac`, `quality_score`).
        frames: Loads the probe camera's frames; None when the pool has no frames (the
            stillness probe is then skipped with a note).
        threshold: See `ValidateConfig.probe_threshold`.
        margin: See `ValidateConfig.probe_margin`.
        max_frame_trajectories: Trajectories decoded for the stillness probe.
        progress: Called as frames are decoded.
    """
    reward = np.asarray(reward, dtype=np.float64)
    truth = manifest["quality_score"].to_numpy(dtype=np.float64)
    limits = {"threshold": threshold, "margin": margin}
    length = manifest["n_steps"].to_numpy(dtype=np.float64)
    closed = manifest["gripper_closed_frac"].to_numpy(dtype=np.float64)
    if frames is None:
        stillness = Probe(name="stillness", feature=STILLNESS, n=0, rho_reward=None,
                          rho_truth=None, excess=None, flagged=False,
                          note="skipped: the pool has no camera frames")  # fmt: skip
    else:
        rows = probe_sample(np.argsort(reward, kind="stable"), max_frame_trajectories)
        motion = _motion(manifest, rows, frames, progress)
        known = ~np.isnan(motion)
        stillness = probe("stillness", feature=STILLNESS, values=motion[known],
                          reward=reward[rows][known], truth=truth[rows][known],
                          **limits)  # fmt: skip
    return [
        probe("length", feature="trajectory length (steps)", values=length, reward=reward,
              truth=truth, **limits),
        stillness,
        probe("gripper_closed", feature="fraction of steps with the gripper closed",
              values=closed, reward=reward, truth=truth, **limits),
    ]  # fmt: skip


def _motion(
    manifest: pd.DataFrame, rows: np.ndarray, frames: FrameLoader, progress: ProgressCallback
) -> np.ndarray:
    """(len(rows),) frame motion of those manifest rows; NaN where a trajectory has no frames."""
    motion = []
    for done, row in enumerate(rows, start=1):
        clip = frames(str(manifest["trajectory_id"].iloc[row]))
        motion.append(np.nan if clip is None else frame_motion(clip))
        progress(done, len(rows))
    return np.array(motion, dtype=np.float64)

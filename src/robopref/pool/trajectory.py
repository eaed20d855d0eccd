"""The Trajectory record: one robot episode with its arrays, validated on construction."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from robopref.errors import InputError

MetadataValue = str | int | float | bool | None


@dataclass(frozen=True)
class ContactLog:
    """Per-step contacts between the robot and the scene, as parallel arrays.

    Attributes:
        step: (K,) int64, the step index of each contact sample.
        body: (K,) str, the scene body touched (`table`, `wall`, an object name, ...).
        force_n: (K,) float32, contact normal force magnitude in newtons.
        toppled: (K,) bool, True where the sample marks an object toppling (always major).
    """

    step: np.ndarray
    body: np.ndarray
    force_n: np.ndarray
    toppled: np.ndarray

    @classmethod
    def empty(cls) -> ContactLog:
        """A log with no contacts."""
        return cls(
            step=np.zeros(0, np.int64),
            body=np.zeros(0, "<U1"),
            force_n=np.zeros(0, np.float32),
            toppled=np.zeros(0, bool),
        )

    def __len__(self) -> int:
        return len(self.step)


@dataclass(frozen=True, kw_only=True)
class Trajectory:
    """One episode. T is the number of steps; every per-step array has T rows.

    Attributes:
        trajectory_id: Unique id within a pool (letters, digits, `-`, `_`, `.`).
        task: The language instruction, e.g. "open the drawer".
        env_id: Environment or robot setup id, e.g. `drawer-open-v3`.
        source: Quality tier / provenance (`expert`, `novice`, `policy_checkpoint_N`,
            `scripted`, `random`, or an importer's label).
        fps: Control / recording rate in Hz.
        state: (T, S) float32 proprioceptive + object state.
        action: (T, A) float32 commanded action.
        gripper: (T,) float32 gripper opening, 0 = closed, 1 = fully open.
        ee_pos: (T, 3) float32 end-effector position in metres (world frame).
        frames: Camera name → (T, H, W, 3) uint8 RGB frames; may be empty (state-only pool)
            or a lazy mapping that decodes on access.
        force: (T,) float32 total contact force on the robot in newtons, if known.
        clearance: (T,) float32 end-effector distance to the nearest obstacle in metres.
        goal_distance: (T,) float32 distance of the task object (or end effector) to the
            goal in metres, where the source knows the goal; gives progress and final error.
        contacts: Robot–scene contact samples.
        success: Ground-truth task success, if known.
        success_step: First step at which the task counted as solved, if it was.
        timestamps_s: (T,) float64 source time of each step; defaults to step / fps.
        metadata: Flat provenance and generator settings (seed, source_dataset, ...).
    """

    trajectory_id: str
    task: str
    env_id: str
    source: str
    fps: float
    state: np.ndarray
    action: np.ndarray
    gripper: np.ndarray
    ee_pos: np.ndarray
    frames: Mapping[str, np.ndarray] = field(default_factory=dict)
    force: np.ndarray | None = None
    clearance: np.ndarray | None = None
    goal_distance: np.ndarray | None = None
    contacts: ContactLog = field(default_factory=ContactLog.empty)
    success: bool | None = None
    success_step: int | None = None
    timestamps_s: np.ndarray | None = None
    metadata: Mapping[str, MetadataValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _validate(self)

    @property
    def n_steps(self) -> int:
        """Number of steps T."""
        return int(self.state.shape[0])

    @property
    def duration_s(self) -> float:
        """Episode duration in seconds (T / fps)."""
        return self.n_steps / self.fps

    @property
    def times_s(self) -> np.ndarray:
        """(T,) source time of each step in seconds."""
        if self.timestamps_s is not None:
            return self.timestamps_s
        return np.arange(self.n_steps, dtype=np.float64) / self.fps

    @property
    def cameras(self) -> list[str]:
        """Camera names with frames, in storage order."""
        return list(self.frames.keys())


def _fail(traj: Trajectory, field_name: str, message: str) -> None:
    raise InputError(f"trajectory {traj.trajectory_id!r}", field_name, message)


def _check_rows(traj: Trajectory, name: str, value: Any, ndim: int, n: int) -> None:
    if not isinstance(value, np.ndarray):
        _fail(traj, name, f"expected a numpy array, got {type(value).__name__}")
    if value.ndim != ndim:
        _fail(traj, name, f"expected {ndim} dimensions, got shape {value.shape}")
    if value.shape[0] != n:
        _fail(traj, name, f"has {value.shape[0]} rows but state has {n} steps")
    if value.dtype.kind == "f" and not np.isfinite(value).all():
        _fail(traj, name, "contains NaN or infinite values")


def _validate(traj: Trajectory) -> None:
    if not traj.trajectory_id or not all(c.isalnum() or c in "-_." for c in traj.trajectory_id):
        _fail(traj, "trajectory_id", "must be non-empty and use only letters, digits, - _ .")
    for name in ("task", "env_id", "source"):
        if not isinstance(getattr(traj, name), str) or not getattr(traj, name):
            _fail(traj, name, "must be a non-empty string")
    if not (isinstance(traj.fps, int | float) and math.isfinite(traj.fps) and traj.fps > 0):
        _fail(traj, "fps", f"must be a positive number, got {traj.fps!r}")
    if not isinstance(traj.state, np.ndarray) or traj.state.ndim != 2:
        _fail(traj, "state", "expected a (T, S) numpy array")
    n = traj.state.shape[0]
    if n < 2:
        _fail(traj, "state", f"needs at least 2 steps, got {n}")
    _check_rows(traj, "state", traj.state, 2, n)
    _check_rows(traj, "action", traj.action, 2, n)
    _check_rows(traj, "gripper", traj.gripper, 1, n)
    _check_rows(traj, "ee_pos", traj.ee_pos, 2, n)
    if traj.ee_pos.shape[1] != 3:
        _fail(traj, "ee_pos", f"expected (T, 3), got {traj.ee_pos.shape}")
    for name in ("force", "clearance", "goal_distance", "timestamps_s"):
        value = getattr(traj, name)
        if value is not None:
            _check_rows(traj, name, value, 1, n)
    if traj.timestamps_s is not None and np.any(np.diff(traj.timestamps_s) <= 0):
        _fail(traj, "timestamps_s", "must be strictly increasing")
    _validate_frames(traj, n)
    _validate_outcome(traj, n)


def _validate_frames(traj: Trajectory, n: int) -> None:
    for camera, frames in traj.frames.items() if isinstance(traj.frames, dict) else ():
        name = f"frames[{camera!r}]"
        if not isinstance(frames, np.ndarray) or frames.dtype != np.uint8:
            _fail(traj, name, "expected a uint8 numpy array")
        if frames.ndim != 4 or frames.shape[3] != 3:
            _fail(traj, name, f"expected (T, H, W, 3) RGB, got shape {frames.shape}")
        if frames.shape[0] != n:
            _fail(traj, name, f"has {frames.shape[0]} frames but state has {n} steps")


def _validate_outcome(traj: Trajectory, n: int) -> None:
    contacts = traj.contacts
    lengths = {len(contacts.step), len(contacts.body), len(contacts.force_n), len(contacts.toppled)}
    if len(lengths) != 1:
        _fail(traj, "contacts", "step, body, force_n and toppled must have equal lengths")
    if len(contacts) and (contacts.step.min() < 0 or contacts.step.max() >= n):
        _fail(traj, "contacts.step", f"must lie in [0, {n})")
    if traj.success_step is not None:
        if not traj.success:
            _fail(traj, "success_step", "is set but success is not True")
        if not 0 <= traj.success_step < n:
            _fail(traj, "success_step", f"{traj.success_step} outside [0, {n})")

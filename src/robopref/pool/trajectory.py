"""The Trajectory record: one robot episode with its arrays, validated on construction."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn, TypeGuard

import numpy as np

from robopref.errors import InputError
from robopref.safe_paths import check_name
from robopref.types import MetadataValue

__all__ = ["ContactLog", "MetadataValue", "Trajectory"]

MAX_FPS = 100_000.0
"""Highest accepted step rate in Hz; beyond it the metrics (jerk ∝ fps³) overflow."""


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
        trajectory_id: Unique id within a pool; it names the trajectory's folder, so it must
            be a safe name (`robopref.safe_paths.is_safe_name`: ASCII letters, digits, `-`,
            `_`, `.`, at most 100 characters, no `..`).
        task: The language instruction, e.g. "open the drawer" (free text without control
            characters, as are env_id and source).
        env_id: Environment or robot setup id, e.g. `drawer-open-v3`.
        source: Quality tier / provenance (`expert`, `novice`, `policy_checkpoint_N`,
            `scripted`, `random`, or an importer's label).
        fps: Control / recording rate in Hz, in (0, MAX_FPS].
        state: (T, S) float32 proprioceptive + object state.
        action: (T, A) float32 commanded action.
        gripper: (T,) float32 gripper opening, 0 = closed, 1 = fully open.
        ee_pos: (T, 3) float32 end-effector position in metres (world frame).
        frames: Camera name → (T, H, W, 3) uint8 RGB frames; may be empty (state-only pool)
            or a lazy mapping that decodes on access. Camera names are safe names (each
            becomes a file name).
        force: (T,) float32 total contact force on the robot in newtons, if known.
        clearance: (T,) float32 end-effector distance to the nearest obstacle in metres.
        goal_distance: (T,) float32 distance of the task object (or end effector) to the
            goal in metres, where the source knows the goal; gives progress and final error.
        env_reward: (T,) float32 the simulator's own dense reward for arriving in state t,
            where the source is a simulator: benchmark ground truth (`true_return`), never an
            input of reward models or AI labelers.
        contacts: Robot–scene contact samples.
        success: Ground-truth task success, if known.
        success_step: First step at which the task counted as solved, if it was.
        timestamps_s: (T,) float64 source time of each step; defaults to step / fps.
        metadata: Flat provenance and generator settings (seed, source_dataset, ...): text,
            numbers, bools or None; `seed` an int64 and `horizon_s` a positive number.

    Every array is numeric (bool, int or float dtype) and finite; a record that breaks any
    of this raises InputError naming the trajectory and the field.
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
    env_reward: np.ndarray | None = None
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


def _fail(traj: Trajectory, field_name: str, message: str) -> NoReturn:
    raise InputError(_where(traj.trajectory_id), field_name, message)


def _where(trajectory_id: object) -> str:
    """How errors name a trajectory: its id, quoted and shortened."""
    shown = repr(trajectory_id)
    return f"trajectory {shown if len(shown) <= 60 else shown[:45] + '…' + shown[-10:]}"


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
"""Control characters (Unicode category Cc), refused in the text fields."""


def check_text(value: object, *, path: str | Path, field: str) -> str:
    """Return `value` if it is a non-empty string without control characters, valid UTF-8.

    Free text (instructions) is otherwise allowed: letters of any script, punctuation.

    Raises:
        InputError: Naming `path` and `field`.

    >>> check_text("open the drawer", path="meta.json", field="task")
    'open the drawer'
    """
    if not isinstance(value, str) or not value:
        raise InputError(path, field, f"must be a non-empty string, got {_short(value)}")
    if _CONTROL.search(value):
        raise InputError(path, field, f"contains control characters: {_short(value)}")
    if not _is_utf8(value):
        raise InputError(path, field, f"is not valid Unicode text: {_short(value)}")
    return value


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:45]}…{text[-10:]} ({len(str(value))} chars)"


def is_number(value: object) -> TypeGuard[int | float | np.integer[Any] | np.floating[Any]]:
    """True for a real int or float (numpy's included), False for bools and everything else.

    >>> [is_number(v) for v in (3, 2.5, np.float32(1), True, "3", None)]
    [True, True, True, False, False, False]
    """
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def is_integer(value: object) -> TypeGuard[int | np.integer[Any]]:
    """True for an int (numpy's included), False for bools and floats."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def _check_array(traj: Trajectory, name: str, value: Any, ndim: int, n: int | None) -> None:
    """`value` is a numeric ndarray of `ndim` dimensions with `n` rows and finite values."""
    if not isinstance(value, np.ndarray):
        _fail(traj, name, f"expected a numpy array, got {type(value).__name__}")
    if value.dtype.kind not in _NUMERIC:
        _fail(traj, name, f"expected a numeric array, got dtype {value.dtype}")
    if value.ndim != ndim:
        _fail(traj, name, f"expected {ndim} dimensions, got shape {value.shape}")
    if n is not None and value.shape[0] != n:
        _fail(traj, name, f"has {value.shape[0]} rows but state has {n} steps")
    if value.dtype.kind == "f" and not np.isfinite(value).all():
        _fail(traj, name, "contains NaN or infinite values")
    if name != "timestamps_s" and value.size and np.abs(value).max() > _FLOAT32_MAX:
        _fail(traj, name, f"holds values beyond ±{_FLOAT32_MAX:.3g} (stored as float32)")


_FLOAT32_MAX = float(np.finfo(np.float32).max)
_NUMERIC = "iuf"
"""numpy dtype kinds accepted for numeric arrays: signed, unsigned, float."""


def _validate(traj: Trajectory) -> None:
    check_name(traj.trajectory_id, path=_where(traj.trajectory_id), field="trajectory_id")
    for name in ("task", "env_id", "source"):
        check_text(getattr(traj, name), path=_where(traj.trajectory_id), field=name)
    if not (is_number(traj.fps) and math.isfinite(traj.fps) and 0 < traj.fps <= MAX_FPS):
        _fail(traj, "fps", f"must be a positive number ≤ {MAX_FPS:g} Hz, got {_short(traj.fps)}")
    if not isinstance(traj.state, np.ndarray) or traj.state.ndim != 2:
        _fail(traj, "state", "expected a (T, S) numpy array")
    n = traj.state.shape[0]
    if n < 2:
        _fail(traj, "state", f"needs at least 2 steps, got {n}")
    _check_array(traj, "state", traj.state, 2, n)
    _check_array(traj, "action", traj.action, 2, n)
    _check_array(traj, "gripper", traj.gripper, 1, n)
    _check_array(traj, "ee_pos", traj.ee_pos, 2, n)
    if traj.ee_pos.shape[1] != 3:
        _fail(traj, "ee_pos", f"expected (T, 3), got {traj.ee_pos.shape}")
    for name in ("force", "clearance", "goal_distance", "env_reward", "timestamps_s"):
        value = getattr(traj, name)
        if value is not None:
            _check_array(traj, name, value, 1, n)
    if traj.timestamps_s is not None and np.any(np.diff(traj.timestamps_s.astype(float)) <= 0):
        _fail(traj, "timestamps_s", "must be strictly increasing")
    _validate_frames(traj, n)
    _validate_contacts(traj, n)
    _validate_outcome(traj, n)
    _validate_metadata(traj)


def _validate_frames(traj: Trajectory, n: int) -> None:
    if not isinstance(traj.frames, Mapping):
        _fail(traj, "frames", f"expected camera → frames, got {type(traj.frames).__name__}")
    for camera in traj.frames:
        check_name(camera, path=_where(traj.trajectory_id), field="frames (camera name)")
    for camera, frames in traj.frames.items() if isinstance(traj.frames, dict) else ():
        name = f"frames[{camera!r}]"
        if not isinstance(frames, np.ndarray) or frames.dtype != np.uint8:
            _fail(traj, name, "expected a uint8 numpy array")
        if frames.ndim != 4 or frames.shape[3] != 3:
            _fail(traj, name, f"expected (T, H, W, 3) RGB, got shape {frames.shape}")
        if frames.shape[0] != n:
            _fail(traj, name, f"has {frames.shape[0]} frames but state has {n} steps")
        if frames.shape[1] < 1 or frames.shape[2] < 1:
            _fail(traj, name, f"frames must be at least 1×1 pixels, got shape {frames.shape}")


def _validate_contacts(traj: Trajectory, n: int) -> None:
    contacts = traj.contacts
    if not isinstance(contacts, ContactLog):
        _fail(traj, "contacts", f"expected a ContactLog, got {type(contacts).__name__}")
    kinds = {"step": "iu", "body": "US", "force_n": "iuf", "toppled": "biu"}
    for name, allowed in kinds.items():
        value = getattr(contacts, name)
        if not isinstance(value, np.ndarray) or value.ndim != 1:
            _fail(traj, f"contacts.{name}", "expected a 1-D numpy array")
        if len(value) and value.dtype.kind not in allowed:
            _fail(traj, f"contacts.{name}", f"unexpected dtype {value.dtype}")
    lengths = {len(contacts.step), len(contacts.body), len(contacts.force_n), len(contacts.toppled)}
    if len(lengths) != 1:
        _fail(traj, "contacts", "step, body, force_n and toppled must have equal lengths")
    if len(contacts) and (contacts.step.min() < 0 or contacts.step.max() >= n):
        _fail(traj, "contacts.step", f"must lie in [0, {n})")
    if len(contacts) and not np.isfinite(contacts.force_n).all():
        _fail(traj, "contacts.force_n", "contains NaN or infinite values")


def _validate_outcome(traj: Trajectory, n: int) -> None:
    if traj.success is not None and not isinstance(traj.success, bool | np.bool_):
        _fail(traj, "success", f"must be true, false or unknown (None), got {_short(traj.success)}")
    if traj.success_step is not None:
        if not is_integer(traj.success_step):
            _fail(traj, "success_step", f"must be an integer, got {_short(traj.success_step)}")
        if not traj.success:
            _fail(traj, "success_step", "is set but success is not True")
        if not 0 <= traj.success_step < n:
            _fail(traj, "success_step", f"{traj.success_step} outside [0, {n})")


def _validate_metadata(traj: Trajectory) -> None:
    if not isinstance(traj.metadata, Mapping):
        _fail(traj, "metadata", f"expected a mapping, got {type(traj.metadata).__name__}")
    for key, value in traj.metadata.items():
        if not isinstance(key, str) or _CONTROL.search(key) or not _is_utf8(key):
            _fail(traj, "metadata", f"keys must be text without control characters: {key!r}")
        if value is not None and not isinstance(value, str | int | float | bool):
            _fail(traj, f"metadata.{key}", f"must be text, a number, bool or None: {_short(value)}")
        if isinstance(value, str) and ("\x00" in value or not _is_utf8(value)):
            _fail(traj, f"metadata.{key}", f"contains NUL or is not valid Unicode: {_short(value)}")
    seed, horizon = traj.metadata.get("seed"), traj.metadata.get("horizon_s")
    if seed is not None and not (is_integer(seed) and -(2**63) <= seed < 2**63):
        _fail(traj, "metadata.seed", f"must be a 64-bit integer, got {_short(seed)}")
    if horizon is not None and not (is_number(horizon) and math.isfinite(horizon) and horizon > 0):
        _fail(traj, "metadata.horizon_s", f"must be a positive number, got {_short(horizon)}")


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True

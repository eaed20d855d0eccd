"""End-effector position and gripper opening of imported episodes: by name, or a declared fallback.

The Trajectory needs `ee_pos` (T, 3) and `gripper` (T,) in [0, 1]; sources often lack one or
both. They are taken, in order, from the key the user names (`IngestConfig.ee_pos_key`,
`gripper_key`), then from well-known feature names, then from well-known names of state
dimensions. If none is there, `IngestConfig.effector_fallback` decides: `error` (default),
`state` (first three state dimensions / last state dimension, assumed) or `constant`
(zeros / fully open: path and gripper metrics mean nothing). Where the values came from is
recorded in `metadata["ee_pos_source"]` and `metadata["gripper_source"]`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from robopref.errors import InputError
from robopref.pool.config import IngestConfig
from robopref.pool.ingest.arrays import as_float_matrix

EE_POS_KEYS = (
    "observation.ee_pos",
    "observation.eef_pos",
    "observation.end_effector_pos",
    "observation.ee_position",
    "ee_pos",
    "eef_pos",
    "robot0_eef_pos",
)
"""Features/keys taken as the (T, 3) end-effector position, in this order."""
EE_NAME_PREFIXES = (
    "ee.",
    "ee_",
    "eef.",
    "eef_",
    "ee_pos.",
    "ee_pos_",
    "end_effector.",
    "end_effector_",
    "tcp.",
    "tcp_",
    "",
)
"""State dimensions named `<prefix>x`, `<prefix>y`, `<prefix>z` give the position."""
GRIPPER_KEYS = ("observation.gripper", "gripper", "robot0_gripper_qpos")
"""Features/keys taken as the gripper, in this order."""
GRIPPER_NAMES = (
    "gripper",
    "gripper.pos",
    "gripper_pos",
    "gripper_position",
    "gripper_opening",
    "gripper_width",
)
"""A single state dimension with one of these names is the gripper."""
FINGER_GAP_M = 0.08
"""Two-finger gripper (e.g. robosuite Panda `robot0_gripper_qpos`): gap |q0 - q1| / 0.08 m."""

StatRange = Mapping[str, tuple[np.ndarray, np.ndarray]]
"""Feature key → (min, max) arrays over the whole dataset (LeRobot `meta/stats.json`)."""


@dataclass(frozen=True, kw_only=True)
class Effector:
    """End-effector position and gripper opening with where each came from."""

    ee_pos: np.ndarray
    """(T, 3) float32 metres."""
    gripper: np.ndarray
    """(T,) float32 opening, 0 closed … 1 open."""
    ee_pos_source: str
    """E.g. `observation.ee_pos`, `state[ee.x,ee.y,ee.z]`, `state[0:3] (fallback: assumed)`."""
    gripper_source: str
    """E.g. `observation.state[gripper] scaled by dataset range [0, 1]`."""


def resolve_effector(
    *,
    where: str,
    state: np.ndarray,
    state_names: Sequence[str] | None,
    arrays: Mapping[str, np.ndarray],
    config: IngestConfig,
    ranges: StatRange | None = None,
) -> Effector:
    """Find ee_pos and gripper for one episode (see the module docstring for the order).

    Args:
        where: File or episode named in errors.
        state: (T, S) state.
        state_names: Names of the S state dimensions, if the source has them.
        arrays: Other per-step arrays of the episode by key, each with T rows.
        config: Keys and fallback chosen by the user.
        ranges: Dataset-wide (min, max) per key (the state's under `state`), used to scale a
            gripper into [0, 1].

    Raises:
        InputError: A named key is missing, or nothing was found and the fallback is `error`.
    """
    names = (
        list(state_names)
        if state_names is not None and len(state_names) == state.shape[1]
        else None
    )
    ranges = ranges or {}
    ee = _find_ee(where, state, names, arrays, config.ee_pos_key)
    if ee is None:
        ee = _fallback_ee(where, state, config.effector_fallback)
    gripper = _find_gripper(where, state, names, arrays, config.gripper_key, ranges)
    if gripper is None:
        gripper = _fallback_gripper(where, state, config.effector_fallback)
    return Effector(
        ee_pos=ee[0], ee_pos_source=ee[1], gripper=gripper[0], gripper_source=gripper[1]
    )


Found = tuple[np.ndarray, str]


def _find_ee(
    where: str,
    state: np.ndarray,
    names: list[str] | None,
    arrays: Mapping[str, np.ndarray],
    key: str | None,
) -> Found | None:
    if key is not None:
        found = _ee_from_key(where, key, state, names, arrays)
        if found is None:
            have = sorted(arrays) + [f"state:{n}" for n in names or []]
            raise InputError(
                where, "ee_pos_key", f"{key!r} is neither a key nor three state names (have {have})"
            )
        return found
    for candidate in EE_POS_KEYS:
        if candidate in arrays:
            return _ee_from_key(where, candidate, state, names, arrays)
    for prefix in EE_NAME_PREFIXES:
        columns = [f"{prefix}{axis}" for axis in "xyz"]
        if names is not None and all(c in names for c in columns):
            return _ee_from_key(where, ",".join(columns), state, names, arrays)
    return None


def _ee_from_key(
    where: str,
    key: str,
    state: np.ndarray,
    names: list[str] | None,
    arrays: Mapping[str, np.ndarray],
) -> Found | None:
    if key in arrays:
        value = as_float_matrix(arrays[key], where=where, field=key, n=len(state))
        if value.shape[1] != 3:
            raise InputError(where, key, f"end-effector position must be (T, 3), got {value.shape}")
        return value, key
    parts = [p.strip() for p in key.split(",")]
    if names is not None and len(parts) == 3 and all(p in names for p in parts):
        columns = [names.index(p) for p in parts]
        return state[:, columns].astype(np.float32), f"state[{','.join(parts)}]"
    return None


def _find_gripper(
    where: str,
    state: np.ndarray,
    names: list[str] | None,
    arrays: Mapping[str, np.ndarray],
    key: str | None,
    ranges: StatRange,
) -> Found | None:
    candidates = [key] if key is not None else list(GRIPPER_KEYS)
    for candidate in candidates:
        if candidate in arrays:
            value = as_float_matrix(arrays[candidate], where=where, field=candidate, n=len(state))
            return _gripper_from_array(where, candidate, value, ranges.get(candidate))
    state_range = ranges.get("state")
    if names is not None:
        wanted = [key] if key is not None else [n for n in names if n.lower() in GRIPPER_NAMES]
        if len(wanted) == 1 and wanted[0] in names:
            column = names.index(wanted[0])
            span = (
                (float(state_range[0].ravel()[column]), float(state_range[1].ravel()[column]))
                if state_range is not None and state_range[0].size == len(names)
                else None
            )
            return normalise_opening(state[:, column], f"state[{wanted[0]}]", span)
    if key is not None:
        raise InputError(
            where,
            "gripper_key",
            f"{key!r} is neither a key nor a state name (have {sorted(arrays)})",
        )
    return None


def _gripper_from_array(
    where: str, key: str, value: np.ndarray, span: tuple[np.ndarray, np.ndarray] | None
) -> Found:
    if value.shape[1] == 1:
        lo_hi = None
        if span is not None and span[0].size > 0:
            lo_hi = (float(span[0].ravel()[0]), float(span[1].ravel()[0]))
        return normalise_opening(value[:, 0], key, lo_hi)
    if value.shape[1] == 2:
        gap = np.abs(value[:, 0] - value[:, 1]) / FINGER_GAP_M
        return np.clip(gap, 0, 1).astype(np.float32), f"{key} finger gap / {FINGER_GAP_M} m"
    raise InputError(
        where, key, f"gripper must be (T,), (T, 1) or (T, 2) fingers, got {value.shape}"
    )


def normalise_opening(values: np.ndarray, label: str, span: tuple[float, float] | None) -> Found:
    """Scale a gripper signal into [0, 1] (larger = more open), saying how.

    Values (and the dataset range, if known) already inside [0, 1] are kept as they are;
    otherwise they are scaled by the dataset-wide range when known, else by the episode's own
    range (recorded as such, as it is the least trustworthy).

    >>> normalise_opening(np.array([0.0, 50.0, 100.0]), "g", (0.0, 100.0))[0].tolist()
    [0.0, 0.5, 1.0]
    >>> [round(float(v), 2) for v in normalise_opening(np.array([0.2, 0.4]), "g", (0.2, 0.4))[0]]
    [0.2, 0.4]
    """
    values = values.astype(np.float64)
    lo, hi = float(values.min()), float(values.max())
    if span is not None:
        lo, hi = min(lo, float(span[0])), max(hi, float(span[1]))
    if lo >= -1e-6 and hi <= 1 + 1e-6:
        return np.clip(values, 0, 1).astype(np.float32), label
    if hi - lo < 1e-9:
        return np.ones(
            len(values), np.float32
        ), f"{label} constant {lo:g} outside [0, 1] (set open)"
    scaled = ((values - lo) / (hi - lo)).clip(0, 1).astype(np.float32)
    scope = "dataset" if span is not None else "episode"
    return scaled, f"{label} scaled by {scope} range [{lo:g}, {hi:g}]"


def _fallback_ee(where: str, state: np.ndarray, fallback: str) -> Found:
    if fallback == "state" and state.shape[1] >= 3:
        return state[:, :3].astype(np.float32), "state[0:3] (fallback: assumed)"
    if fallback == "constant":
        return np.zeros((len(state), 3), np.float32), "missing (constant fallback: zeros)"
    raise InputError(
        where,
        "ee_pos",
        "no end-effector position found (looked for keys "
        f"{', '.join(EE_POS_KEYS[:2])}, … and state names ee.x/ee.y/ee.z, x/y/z, …); "
        "name it with --ee-pos-key, or choose --effector-fallback state|constant "
        "(docs/pool-ingest.md)"
        + (f"; state has only {state.shape[1]} dims" if fallback == "state" else ""),
    )


def _fallback_gripper(where: str, state: np.ndarray, fallback: str) -> Found:
    if fallback == "state":
        values, how = normalise_opening(state[:, -1], "state[-1]", None)
        return values, f"{how} (fallback: assumed)"
    if fallback == "constant":
        return np.ones(len(state), np.float32), "missing (constant fallback: open)"
    raise InputError(
        where,
        "gripper",
        f"no gripper found (looked for keys {', '.join(GRIPPER_KEYS)} and state names "
        f"{', '.join(GRIPPER_NAMES[:3])}, …); name it with --gripper-key, or choose "
        "--effector-fallback state|constant (docs/pool-ingest.md)",
    )

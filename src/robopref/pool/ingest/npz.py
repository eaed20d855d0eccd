"""Plain NPZ importer: one `.npz` per episode, optional JSON sidecars (docs/pool-ingest.md).

Arrays (loaded with `allow_pickle=False`): required `state` (T, S) and `action` (T, A);
optional `ee_pos` (T, 3) m, `gripper` (T,) opening (or (T, 2) finger positions),
`timestamps_s` (T,), `force`, `clearance`, `goal_distance` (T,), `success` (scalar or (T,)
per-step flag), `fps` (scalar) and `frames_<camera>` (T, H, W, 3) uint8.
Sidecars: `dataset.json` in the folder (defaults for every episode) and `<episode>.json`
beside each file, with any of `task`, `env_id`, `source`, `success`, `fps`, `state_names`,
`source_dataset`, `source_episode`; the episode's sidecar wins over `dataset.json`.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from robopref.errors import InputError
from robopref.pool.config import IngestConfig
from robopref.pool.ingest.base import (
    Importer,
    as_float_matrix,
    as_success,
    first_true,
    register,
)
from robopref.pool.ingest.effector import resolve_effector
from robopref.pool.trajectory import Trajectory

FRAMES_PREFIX = "frames_"
SERIES = ("force", "clearance", "goal_distance")
DATASET_SIDECAR = "dataset.json"


@register
class NpzImporter(Importer):
    """Episodes stored as `*.npz` files in a folder (or one `.npz` file)."""

    format_name = "npz"

    def __init__(self, source: Path, config: IngestConfig) -> None:
        super().__init__(source, config)
        folder = source if source.is_dir() else source.parent
        self._files = {
            p.stem: p for p in (sorted(source.glob("*.npz")) if source.is_dir() else [source])
        }
        self._defaults = _sidecar(folder / DATASET_SIDECAR) if source.is_dir() else {}

    def episode_keys(self) -> list[str]:
        """File stems in name order."""
        return list(self._files)

    def read_episode(self, key: str) -> Trajectory:
        """One `.npz` file (and its sidecars) as a Trajectory."""
        path = self._files[key]
        meta = {**self._defaults, **_sidecar(path.with_suffix(".json"))}
        arrays = _load(path)
        where = str(path)
        state, action, per_step = _checked(path, arrays)
        n = len(state)
        effector = resolve_effector(
            where=where,
            state=state,
            state_names=meta.get("state_names"),
            arrays=per_step,
            config=self.config,
        )
        success, success_step, success_source = self._success(arrays, meta, where, n)
        series = {
            name: as_float_matrix(arrays[name], where=where, field=name, n=n)[:, 0]
            for name in SERIES
            if name in arrays
        }
        return Trajectory(
            trajectory_id=self.trajectory_id(key),
            task=self._required_text(meta, "task", self.config.task, where),
            env_id=self.config.env_id or str(meta.get("env_id") or self.id_prefix),
            source=self.source_label(_text(meta.get("source"))),
            fps=self._fps(arrays, meta, where),
            state=state,
            action=action,
            gripper=effector.gripper,
            ee_pos=effector.ee_pos,
            frames=_frames(arrays, where, n),
            timestamps_s=per_step["timestamps_s"].astype(np.float64)
            if "timestamps_s" in per_step
            else None,
            success=success,
            success_step=success_step,
            metadata={
                "source_dataset": _text(meta.get("source_dataset")) or self.dataset_label,
                "source_episode": _text(meta.get("source_episode")) or key,
                "source_format": "npz",
                "ee_pos_source": effector.ee_pos_source,
                "gripper_source": effector.gripper_source,
                "success_source": success_source,
            },
            force=series.get("force"),
            clearance=series.get("clearance"),
            goal_distance=series.get("goal_distance"),
        )

    def _fps(self, arrays: dict[str, np.ndarray], meta: dict[str, Any], where: str) -> float:
        for value in (meta.get("fps"), arrays.get("fps"), self.config.fps):
            if value is not None:
                return float(value)
        raise InputError(
            where, "fps", "unknown: add `fps` to the file or its sidecar, or pass --fps"
        )

    def _success(
        self, arrays: dict[str, np.ndarray], meta: dict[str, Any], where: str, n: int
    ) -> tuple[bool | None, int | None, str | None]:
        key = self.config.success_key
        if key is not None and key not in meta and key not in arrays:
            raise InputError(
                where, "success_key", f"{key!r} is neither a sidecar field nor an array"
            )
        name = key or "success"
        if meta.get(name) is not None:
            return as_success(meta[name], where=where, field=name), None, f"sidecar {name}"
        if name in arrays:
            flags = arrays[name]
            if flags.ndim and len(flags) == n:
                step = first_true(flags)
                return step is not None, step, f"array {name} (any step)"
            return as_success(flags, where=where, field=name), None, f"array {name}"
        return None, None, None

    @staticmethod
    def _required_text(meta: dict[str, Any], name: str, override: str | None, where: str) -> str:
        text = override or _text(meta.get(name))
        if not text:
            raise InputError(
                where, name, f"missing: put `{name}` in a sidecar JSON or pass --{name}"
            )
        return text


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _sidecar(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        value = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(path, path.name, f"unreadable JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise InputError(path, path.name, "must hold a JSON object")
    return value


def _load(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {key: npz[key] for key in npz.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise InputError(path, "npz", f"unreadable (object arrays are not allowed): {exc}") from exc


def _checked(
    path: Path, arrays: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """(state, action, every per-step array) of one file, all T rows long.

    Raises:
        InputError: `state` or `action` missing, or an array with another number of rows.
    """
    for name in ("state", "action"):
        if name not in arrays:
            raise InputError(path, name, "array missing (required: state, action)")
    state = as_float_matrix(arrays["state"], where=str(path), field="state")
    n = len(state)
    action = as_float_matrix(arrays["action"], where=str(path), field="action", n=n)
    per_step = {k: v for k, v in arrays.items() if v.ndim >= 1}
    for name, value in per_step.items():
        if len(value) != n:
            raise InputError(path, name, f"has {len(value)} rows, state has {n}")
    return state, action, per_step


def _frames(arrays: dict[str, np.ndarray], where: str, n: int) -> dict[str, np.ndarray]:
    frames = {}
    for key, value in arrays.items():
        if key.startswith(FRAMES_PREFIX):
            if value.dtype != np.uint8 or value.ndim != 4 or value.shape[-1] != 3:
                raise InputError(
                    where, key, f"expected (T, H, W, 3) uint8, got {value.shape} {value.dtype}"
                )
            frames[key[len(FRAMES_PREFIX) :]] = value
    return frames

"""Plain NPZ importer: one `.npz` per episode, optional JSON sidecars (docs/pool-ingest.md).

Arrays (loaded with `allow_pickle=False`, see `npz_archive`): required `state` (T, S) and
`action` (T, A); optional `ee_pos` (T, 3) m, `gripper` (T,) opening (or (T, 2) finger
positions), `timestamps_s` (T,), `force`, `clearance`, `goal_distance` (T,), `success`
(scalar or (T,) per-step flag), `fps` (scalar) and `frames_<camera>` (T, H, W, 3) uint8.
Sidecars: `dataset.json` in the folder (defaults for every episode) and `<episode>.json`
beside each file, with any of `task`, `env_id`, `source`, `success`, `fps`, `state_names`,
`source_dataset`, `source_episode`; the episode's sidecar wins over `dataset.json`.
Camera names and file stems are mapped to safe names (`safe_paths`); the originals are kept
in `metadata["source_cameras"]` and `metadata["source_episode"]`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from robopref.errors import InputError
from robopref.json_files import as_object, read_json
from robopref.pool.config import IngestConfig
from robopref.pool.ingest.arrays import (
    as_float_matrix,
    as_float_vector,
    as_frames,
    as_success,
    as_times,
    require_steps,
)
from robopref.pool.ingest.base import Importer, add_camera, cameras_metadata, register
from robopref.pool.ingest.effector import resolve_effector
from robopref.pool.ingest.fields import read_flag, read_fps, read_names, read_text, scalar
from robopref.pool.ingest.npz_archive import load_npz
from robopref.pool.trajectory import Trajectory
from robopref.safe_paths import NameMap

FRAMES_PREFIX = "frames_"
SERIES = ("force", "clearance", "goal_distance", "env_reward")
DATASET_SIDECAR = "dataset.json"
TEXT_FIELDS = ("task", "env_id", "source", "source_dataset", "source_episode")
"""Sidecar fields holding text."""


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
        self._defaults = read_sidecar(folder / DATASET_SIDECAR) if source.is_dir() else {}

    def episode_keys(self) -> list[str]:
        """File stems in name order."""
        return list(self._files)

    def read_episode(self, key: str) -> Trajectory:
        """One `.npz` file (and its sidecars) as a Trajectory."""
        path = self._files[key]
        where = str(path)
        read_text(key, path=path, field="file name")
        meta = {**self._defaults, **read_sidecar(path.with_suffix(".json"))}
        arrays = load_npz(path)
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
            name: as_float_vector(arrays[name], where=where, field=name, n=n)
            for name in SERIES
            if name in arrays
        }
        frames, cameras = _frames(path, arrays, n)
        return self.trajectory(
            where,
            trajectory_id=self.trajectory_id(key),
            task=self._required_text(meta, "task", self.config.task, where),
            env_id=self.config.env_id or meta.get("env_id") or self.id_prefix,
            source=self.source_label(meta.get("source")),
            fps=self._fps(arrays, meta, where),
            state=state,
            action=action,
            gripper=effector.gripper,
            ee_pos=effector.ee_pos,
            frames=frames,
            timestamps_s=as_times(arrays["timestamps_s"], where=where, field="timestamps_s", n=n)
            if "timestamps_s" in arrays
            else None,
            success=success,
            success_step=success_step,
            metadata={
                "source_dataset": meta.get("source_dataset") or self.dataset_label,
                "source_episode": meta.get("source_episode") or key,
                "source_format": "npz",
                "ee_pos_source": effector.ee_pos_source,
                "gripper_source": effector.gripper_source,
                "success_source": success_source,
                **cameras_metadata(cameras),
            },
            force=series.get("force"),
            clearance=series.get("clearance"),
            goal_distance=series.get("goal_distance"),
            env_reward=series.get("env_reward"),
        )

    def _fps(self, arrays: dict[str, np.ndarray], meta: dict[str, Any], where: str) -> float:
        if meta.get("fps") is not None:
            return float(meta["fps"])
        if "fps" in arrays:
            return read_fps(scalar(arrays["fps"]), path=where, field="fps")
        if self.config.fps is not None:
            return self.config.fps
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
            return read_flag(meta[name], path=where, field=name), None, f"sidecar {name}"
        if name in arrays:
            success, step = as_success(arrays[name], where=where, field=name, n=n)
            per_step = arrays[name].size != 1
            return success, step, f"array {name}" + (" (any step)" if per_step else "")
        return None, None, None

    @staticmethod
    def _required_text(meta: dict[str, Any], name: str, override: str | None, where: str) -> str:
        text = override or meta.get(name)
        if not text:
            raise InputError(
                where, name, f"missing: put `{name}` in a sidecar JSON or pass --{name}"
            )
        return str(text)


def read_sidecar(path: Path) -> dict[str, Any]:
    """The fields of a sidecar JSON (empty if there is none), each checked for its type.

    Text fields (TEXT_FIELDS) are text, `fps` a frame rate, `success` a flag and
    `state_names` a list of names; other fields are kept as they are (`--success-key` may
    name one, and is read as a flag then).

    Raises:
        InputError: Unreadable or invalid JSON, not an object, or a field of the wrong type.
    """
    if not path.exists():
        return {}
    meta = as_object(read_json(path), path=path, field=path.name)
    for name in TEXT_FIELDS:
        if name in meta:
            meta[name] = read_text(meta[name], path=path, field=name)
    if meta.get("fps") is not None:
        meta["fps"] = read_fps(meta["fps"], path=path, field="fps")
    if "success" in meta:
        meta["success"] = read_flag(meta["success"], path=path, field="success")
    if "state_names" in meta:
        meta["state_names"] = read_names(meta["state_names"], path=path, field="state_names")
    return meta


def _checked(
    path: Path, arrays: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """(state, action, every per-step array) of one file, all T rows long.

    Raises:
        InputError: `state` or `action` missing, fewer than two steps, or an array with
            another number of rows.
    """
    for name in ("state", "action"):
        if name not in arrays:
            raise InputError(path, name, "array missing (required: state, action)")
    state = as_float_matrix(arrays["state"], where=str(path), field="state")
    n = require_steps(len(state), where=path, field="state")
    action = as_float_matrix(arrays["action"], where=str(path), field="action", n=n)
    per_step = {k: v for k, v in arrays.items() if v.ndim >= 1}
    for name, value in per_step.items():
        if len(value) != n:
            raise InputError(path, name, f"has {len(value)} rows, state has {n}")
    return state, action, per_step


def _frames(
    path: Path, arrays: dict[str, np.ndarray], n: int
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """(camera → frames, array key → camera) of the `frames_<camera>` arrays, names made safe.

    Raises:
        InputError: Frames of the wrong shape or dtype, or two cameras whose names map to one.
    """
    names = NameMap(path, f"{FRAMES_PREFIX}<camera>")
    frames, cameras = {}, {}
    for key, value in arrays.items():
        if key.startswith(FRAMES_PREFIX):
            camera = add_camera(names, key[len(FRAMES_PREFIX) :])
            frames[camera] = as_frames(value, where=path, field=key, n=n)
            cameras[key] = camera
    return frames, cameras

"""LeRobotDataset importer (v3.0 and v2.1 folders) using pyarrow and PyAV, not the lerobot package.

Mapping: `observation.state` → state, `action` → action, `observation.images.<cam>` (video or
image features) → camera `<cam>`, the episode's first task string → task, `timestamp` →
timestamps_s. Success: `IngestConfig.success_key` (episode field or per-frame feature), else
the `robopref/success` episode field (our export), else the per-frame `next.success` feature.
End effector and gripper: see `robopref.pool.ingest.effector`.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from PIL import Image

from robopref.errors import InputError
from robopref.pool.config import IngestConfig
from robopref.pool.ingest.base import (
    Importer,
    as_float_matrix,
    as_success,
    first_true,
    register,
    safe_id,
)
from robopref.pool.ingest.effector import resolve_effector
from robopref.pool.ingest.lerobot_layout import EpisodeSpec, read_layout
from robopref.pool.ingest.video_cursor import VideoCursor
from robopref.pool.trajectory import Trajectory

STATE, ACTION = "observation.state", "action"
INDEX_COLUMNS = ("timestamp", "frame_index", "episode_index", "index", "task_index")
CAMERA_PREFIX = "observation.images."
EXPORT_FIELDS = ("robopref/trajectory_id", "robopref/source", "robopref/success", "robopref/env_id")
"""Episode fields written by `robopref.pool.export`, read back here."""


@register
class LeRobotImporter(Importer):
    """Episodes of a local LeRobotDataset folder (`meta/info.json` at its root)."""

    format_name = "lerobot"

    def __init__(self, source: Path, config: IngestConfig) -> None:
        super().__init__(source, config)
        self.layout = read_layout(source)
        for key in (STATE, ACTION):
            if key not in self.layout.features:
                raise InputError(
                    source / "meta" / "info.json", key, "feature missing (needed for state/action)"
                )
        self._specs = {str(e.index): e for e in self.layout.episodes}
        self._cursors = {key: VideoCursor(0.25 / self.layout.fps) for key in self.layout.video_keys}
        self._table: tuple[Path, pa.Table] | None = None
        stats = self.layout.stats
        self._ranges = {**stats, **({"state": stats[STATE]} if STATE in stats else {})}

    def episode_keys(self) -> list[str]:
        """Episode indices as strings, in order."""
        return list(self._specs)

    def trajectory_id(self, key: str) -> str:
        """`<id_prefix>-ep000003` for episode 3."""
        return f"{self.id_prefix}-ep{int(key):06d}"

    def close(self) -> None:
        """Close the video decoders."""
        for cursor in self._cursors.values():
            cursor.close()
        self._table = None

    def read_episode(self, key: str) -> Trajectory:
        """Rows, frames and metadata of one episode as a Trajectory."""
        spec = self._specs[key]
        where = f"{spec.data_file} (episode {spec.index})"
        rows = self._rows(spec)
        state = as_float_matrix(rows[STATE], where=where, field=STATE)
        action = as_float_matrix(rows[ACTION], where=where, field=ACTION)
        times = rows["timestamp"].astype(np.float64).ravel()
        frames = self._frames(spec, rows, times)
        arrays = {
            k: v
            for k, v in rows.items()
            if k not in (STATE, ACTION, *INDEX_COLUMNS) and v.dtype.kind in "biuf"
        }
        effector = resolve_effector(
            where=where,
            state=state,
            state_names=self.layout.state_names(STATE),
            arrays=arrays,
            config=self.config,
            ranges=self._ranges,
        )
        success, success_step, success_source = self._success(spec, rows, where)
        extra = spec.extra
        return Trajectory(
            trajectory_id=self.trajectory_id(key),
            task=self._task(spec, rows, where),
            env_id=self.config.env_id or _text(extra.get("robopref/env_id")) or self.id_prefix,
            source=self.source_label(_text(extra.get("robopref/source"))),
            fps=self.layout.fps,
            state=state,
            action=action,
            gripper=effector.gripper,
            ee_pos=effector.ee_pos,
            frames=frames,
            success=success,
            success_step=success_step,
            timestamps_s=times,
            metadata={
                "source_dataset": self.dataset_label,
                "source_episode": str(spec.index),
                "source_format": f"lerobot {self.layout.version}",
                "source_trajectory_id": _text(extra.get("robopref/trajectory_id")),
                "robot_type": self.layout.robot_type,
                "ee_pos_source": effector.ee_pos_source,
                "gripper_source": effector.gripper_source,
                "success_source": success_source,
            },
        )

    def _rows(self, spec: EpisodeSpec) -> dict[str, np.ndarray]:
        table = self._data_table(spec.data_file)
        where = f"{spec.data_file} (episode {spec.index})"
        for column in (STATE, ACTION, "timestamp", "episode_index"):
            if column not in table.column_names:
                raise InputError(spec.data_file, column, "column missing")
        table = table.filter(pc.equal(table["episode_index"], spec.index))
        if "frame_index" in table.column_names:
            table = table.sort_by("frame_index")
        if table.num_rows != spec.length:
            raise InputError(
                where,
                "length",
                f"data has {table.num_rows} rows but the episode metadata says {spec.length}",
            )
        images = set(self.layout.image_keys)
        return {
            name: _column(table.column(name), where, name)
            for name in table.column_names
            if name not in images
        } | {
            name: _images(table.column(name), where, name)
            for name in images
            if name in table.column_names
        }

    def _data_table(self, path: Path) -> pa.Table:
        if self._table is None or self._table[0] != path:
            try:
                self._table = (path, pq.read_table(path))
            except (OSError, pa.ArrowException) as exc:
                raise InputError(path, "data", f"unreadable parquet: {exc}") from exc
        return self._table[1]

    def _frames(
        self, spec: EpisodeSpec, rows: dict[str, np.ndarray], times: np.ndarray
    ) -> dict[str, np.ndarray]:
        frames: dict[str, np.ndarray] = {}
        for key in self.layout.image_keys:
            if key not in rows:
                raise InputError(spec.data_file, key, "image column missing")
            frames[camera_name(key)] = rows[key]
        for key, span in spec.videos.items():
            field = f"videos/{key}"
            frames[camera_name(key)] = self._cursors[key].read(
                span.path, span.from_s + times, field=field
            )
        return frames

    def _task(self, spec: EpisodeSpec, rows: dict[str, np.ndarray], where: str) -> str:
        if self.config.task:
            return self.config.task
        if spec.tasks and spec.tasks[0]:
            return spec.tasks[0]
        if "task_index" in rows and int(rows["task_index"].ravel()[0]) in self.layout.tasks:
            return self.layout.tasks[int(rows["task_index"].ravel()[0])]
        raise InputError(where, "tasks", "episode has no task string; pass --task")

    def _success(
        self, spec: EpisodeSpec, rows: dict[str, np.ndarray], where: str
    ) -> tuple[bool | None, int | None, str | None]:
        key = self.config.success_key
        if key is not None and key in spec.extra:
            value = spec.extra[key]
            if value is None:
                return None, None, None
            return as_success(value, where=where, field=key), None, f"episode field {key}"
        if key is not None and key not in rows:
            raise InputError(
                where, "success_key", f"{key!r} is neither an episode field nor a feature"
            )
        if key is None and "robopref/success" in spec.extra:  # our export; null means unknown
            value = spec.extra["robopref/success"]
            if value is None:
                return None, None, None
            step = first_true(rows["next.success"]) if value and "next.success" in rows else None
            return bool(value), step, "episode field robopref/success"
        name = key or "next.success"
        if name in rows:
            step = first_true(rows[name])
            return step is not None, step, f"feature {name} (any frame)"
        return None, None, None


def camera_name(key: str) -> str:
    """Camera name of a LeRobot image feature: `observation.images.front` → `front`.

    >>> camera_name("observation.images.wrist_left")
    'wrist_left'
    """
    name = key[len(CAMERA_PREFIX) :] if key.startswith(CAMERA_PREFIX) else key.rsplit(".", 1)[-1]
    return safe_id(name)


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _column(column: pa.ChunkedArray, where: str, name: str) -> np.ndarray:
    """A parquet column as a numpy array; fixed or equal-length lists become (T, D)."""
    array = column.combine_chunks()
    if array.null_count:
        raise InputError(where, name, f"{array.null_count} missing values")
    if (
        pa.types.is_list(array.type)
        or pa.types.is_fixed_size_list(array.type)
        or pa.types.is_large_list(array.type)
    ):
        lengths = pc.list_value_length(array).to_numpy(zero_copy_only=False)
        if len(lengths) and (lengths != lengths[0]).any():
            raise InputError(where, name, "rows have different lengths")
        flat = array.flatten()
        if pa.types.is_nested(flat.type):
            return np.zeros((len(array), 0))  # nested lists are not per-step vectors we use
        return np.asarray(flat.to_numpy(zero_copy_only=False)).reshape(len(array), -1)
    if pa.types.is_struct(array.type) or pa.types.is_nested(array.type):
        return np.zeros((len(array), 0))
    return np.asarray(array.to_numpy(zero_copy_only=False))


def _images(column: pa.ChunkedArray, where: str, name: str) -> np.ndarray:
    """(T, H, W, 3) uint8 from a LeRobot image column (struct of PNG `bytes` and `path`)."""
    frames = []
    for i, cell in enumerate(column.to_pylist()):
        data = cell.get("bytes") if isinstance(cell, dict) else None
        if not data:
            raise InputError(where, name, f"frame {i} has no image bytes")
        try:
            frames.append(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))
        except OSError as exc:
            raise InputError(where, name, f"frame {i} unreadable: {exc}") from exc
    return np.stack(frames)

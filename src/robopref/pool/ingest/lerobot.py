"""LeRobotDataset importer (v3.0 and v2.1 folders) using pyarrow and PyAV, not the lerobot package.

Mapping: `observation.state` → state, `action` → action, `observation.images.<cam>` (video or
image features) → camera `<cam>` (made a safe name; the feature keys are kept in
`metadata["source_cameras"]`), the episode's first task string → task, `timestamp` →
timestamps_s. Success: `IngestConfig.success_key` (episode field or per-frame feature), else
the `robopref/success` episode field (our export), else the per-frame `next.success` feature.
End effector and gripper: see `robopref.pool.ingest.effector`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from robopref.errors import InputError
from robopref.pool.config import IngestConfig
from robopref.pool.ingest.arrays import as_float_matrix, as_success, as_times
from robopref.pool.ingest.base import (
    EpisodeError,
    Importer,
    add_camera,
    cameras_metadata,
    register,
)
from robopref.pool.ingest.effector import resolve_effector
from robopref.pool.ingest.fields import read_flag, read_int
from robopref.pool.ingest.lerobot_layout import EpisodeSpec, read_layout
from robopref.pool.ingest.lerobot_rows import DataFiles
from robopref.pool.ingest.video_cursor import VideoCursor
from robopref.pool.trajectory import Trajectory
from robopref.safe_paths import NameMap

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
        info = self.layout.info
        for key in (STATE, ACTION):
            if key not in self.layout.features:
                raise InputError(info.path, key, "feature missing (needed for state/action)")
        self._specs: dict[str, EpisodeSpec | EpisodeError] = {}
        for spec in self.layout.episodes:
            key = str(spec.index) if isinstance(spec, EpisodeSpec) else spec.episode
            if key in self._specs:
                raise InputError(source / "meta", "episode_index", f"episode {key} listed twice")
            self._specs[key] = spec
        names = NameMap(info.path, "features")
        self._cameras = {
            key: add_camera(names, camera_part(key))
            for key in [*self.layout.image_keys, *self.layout.video_keys]
        }
        self._cursors = {key: VideoCursor(0.25 / self.layout.fps) for key in self.layout.video_keys}
        self._data = DataFiles(self.layout.image_keys)
        stats = self.layout.stats
        self._ranges = {**stats, **({"state": stats[STATE]} if STATE in stats else {})}

    def episode_keys(self) -> list[str]:
        """Episode indices as strings, in order (rows that could not be read last)."""
        return list(self._specs)

    def episode_name(self, key: str) -> str:
        """`ep000003` for episode 3 (ids are `<id_prefix>-ep000003`)."""
        return f"ep{int(key):06d}" if key.isdigit() else key

    def close(self) -> None:
        """Close the video decoders and the data file."""
        for cursor in self._cursors.values():
            cursor.close()
        self._data.close()

    def read_episode(self, key: str) -> Trajectory:
        """Rows, frames and metadata of one episode as a Trajectory."""
        spec = self._specs[key]
        if isinstance(spec, EpisodeError):
            raise spec.error
        where = f"{spec.data_file} (episode {spec.index})"
        rows = self._data.rows(spec)
        n = spec.length
        state = as_float_matrix(rows[STATE], where=where, field=STATE, n=n)
        action = as_float_matrix(rows[ACTION], where=where, field=ACTION, n=n)
        times = as_times(rows["timestamp"], where=where, field="timestamp", n=n)
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
        return self.trajectory(
            where,
            trajectory_id=self.trajectory_id(key),
            task=self._task(spec, rows, where),
            env_id=self.config.env_id or extra.get("robopref/env_id") or self.id_prefix,
            source=self.source_label(extra.get("robopref/source")),
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
                "source_trajectory_id": extra.get("robopref/trajectory_id"),
                "robot_type": self.layout.robot_type,
                "ee_pos_source": effector.ee_pos_source,
                "gripper_source": effector.gripper_source,
                "success_source": success_source,
                **cameras_metadata(self._cameras),
            },
        )

    def _frames(
        self, spec: EpisodeSpec, rows: dict[str, np.ndarray], times: np.ndarray
    ) -> dict[str, np.ndarray]:
        frames: dict[str, np.ndarray] = {}
        for key in self.layout.image_keys:
            if key not in rows:
                raise InputError(spec.data_file, key, "image column missing")
            frames[self._cameras[key]] = rows[key]
        for key, span in spec.videos.items():
            field = f"videos/{key}"
            frames[self._cameras[key]] = self._cursors[key].read(
                span.path, span.from_s + times, field=field
            )
        return frames

    def _task(self, spec: EpisodeSpec, rows: dict[str, np.ndarray], where: str) -> str:
        if self.config.task:
            return self.config.task
        if spec.tasks:
            return spec.tasks[0]
        if "task_index" in rows and len(rows["task_index"]):
            index = read_int(rows["task_index"].ravel()[0], path=where, field="task_index")
            if index in self.layout.tasks:
                return self.layout.tasks[index]
        raise InputError(where, "tasks", "episode has no task string; pass --task")

    def _success(
        self, spec: EpisodeSpec, rows: dict[str, np.ndarray], where: str
    ) -> tuple[bool | None, int | None, str | None]:
        key = self.config.success_key
        n = spec.length
        if key is not None and key in spec.extra:
            value = read_flag(spec.extra[key], path=where, field=key)
            return value, None, None if value is None else f"episode field {key}"
        if key is not None and key not in rows:
            raise InputError(
                where, "success_key", f"{key!r} is neither an episode field nor a feature"
            )
        if key is None and "robopref/success" in spec.extra:  # our export; null means unknown
            value = spec.extra["robopref/success"]
            if value is None:
                return None, None, None
            step = None
            if value and "next.success" in rows:
                step = as_success(rows["next.success"], where=where, field="next.success", n=n)[1]
            return bool(value), step, "episode field robopref/success"
        name = key or "next.success"
        if name in rows:
            success, step = as_success(rows[name], where=where, field=name, n=n)
            return success, step, f"feature {name} (any frame)"
        return None, None, None


def camera_part(key: str) -> str:
    """The camera part of a LeRobot image feature key (made safe by the importer's NameMap).

    >>> camera_part("observation.images.wrist_left"), camera_part("observation.image")
    ('wrist_left', 'image')
    """
    return key[len(CAMERA_PREFIX) :] if key.startswith(CAMERA_PREFIX) else key.rsplit(".", 1)[-1]

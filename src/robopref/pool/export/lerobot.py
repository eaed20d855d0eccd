"""Write a pool as a LeRobotDataset v3.0 folder with pyarrow and PyAV (no `lerobot` needed).

Features: `observation.state`, `action`, `observation.ee_pos` (x, y, z), `observation.gripper`,
`next.success` (true from the success step on), one H.264 video `observation.images.<cam>`
per camera every trajectory has, plus LeRobot's `timestamp`, `frame_index`, `episode_index`,
`index`, `task_index`. Episode rows also carry `robopref/trajectory_id`, `robopref/source`,
`robopref/success`, `robopref/env_id`, `robopref/source_dataset`, `robopref/source_episode`,
which `robopref pool ingest lerobot` reads back. Episodes are grouped EPISODES_PER_FILE to a
data file and to a video file per camera, as LeRobot groups them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from robopref.errors import InputError
from robopref.pool.export.stats import ImageStats, VectorStats
from robopref.pool.pool import Pool
from robopref.pool.trajectory import Trajectory
from robopref.progress import ProgressCallback
from robopref.video import write_video

CODEBASE_VERSION = "v3.0"
EPISODES_PER_FILE = 500
"""Episodes per data parquet and per video file (LeRobot rolls files at 100/200 MB)."""
CHUNKS_SIZE = 1000
"""Files per chunk folder (LeRobot's DEFAULT_CHUNK_SIZE)."""
DATA_PATH = "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
VIDEO_PATH = "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"
EPISODES_PATH = "meta/episodes/chunk-000/file-000.parquet"
VIDEO_CRF = 18
"""H.264 quality of exported videos (visually lossless at robot-camera sizes)."""
VECTORS = ("observation.state", "action", "observation.ee_pos", "observation.gripper")


@dataclass(frozen=True, kw_only=True)
class ExportPlan:
    """What the export writes, fixed before anything is written."""

    ids: list[str]
    """Trajectory ids in manifest order (episode_index = position)."""
    fps: int
    dims: dict[str, int]
    """Vector feature → its length (the same in every trajectory)."""
    cameras: dict[str, tuple[int, int]]
    """Camera → (height, width) after padding to even sizes."""
    tasks: list[str]
    """Task strings in task_index order."""
    total_frames: int


def file_location(episode_index: int) -> tuple[int, int]:
    """(chunk_index, file_index) of the data/video file holding an episode.

    >>> file_location(0), file_location(EPISODES_PER_FILE)
    ((0, 0), (0, 1))
    """
    group = episode_index // EPISODES_PER_FILE
    return group // CHUNKS_SIZE, group % CHUNKS_SIZE


def plan_export(pool: Pool) -> ExportPlan:
    """Check that the pool fits one LeRobot feature set and fix its shapes.

    Raises:
        InputError: Empty pool, mixed or non-integer fps, or state/action sizes that differ.
    """
    manifest = pool.manifest
    where = pool.root / "manifest.parquet"
    if not len(manifest):
        raise InputError(where, "trajectory_id", "the pool is empty")
    fps_values = sorted(set(manifest["fps"].astype(float)))
    if len(fps_values) != 1 or not float(fps_values[0]).is_integer():
        raise InputError(
            where, "fps", f"LeRobot needs one integer fps, the pool has {fps_values[:5]}"
        )
    cameras = set(manifest["cameras"].iloc[0])
    for row in manifest["cameras"]:
        cameras &= set(row)
    first = pool[str(manifest["trajectory_id"].iloc[0])]
    sizes = {}
    for camera in sorted(cameras):
        height, width = first.frames[camera].shape[1:3]
        sizes[camera] = (height + height % 2, width + width % 2)
    return ExportPlan(
        ids=[str(t) for t in manifest["trajectory_id"]],
        fps=int(fps_values[0]),
        dims={key: value.shape[1] for key, value in _vectors(first).items()},
        cameras=sizes,
        tasks=list(dict.fromkeys(str(t) for t in manifest["task"])),
        total_frames=int(manifest["n_steps"].sum()),
    )


def _vectors(traj: Trajectory) -> dict[str, np.ndarray]:
    return {
        "observation.state": traj.state,
        "action": traj.action,
        "observation.ee_pos": traj.ee_pos,
        "observation.gripper": traj.gripper[:, None],
    }


def success_flags(traj: Trajectory) -> np.ndarray:
    """(T,) bool `next.success`: true from the success step on (the last step if unknown).

    Unknown success (None) gives all false; `robopref/success` then stays null.
    """
    flags = np.zeros(traj.n_steps, bool)
    if traj.success:
        flags[traj.success_step if traj.success_step is not None else -1 :] = True
    return flags


class DataWriter:
    """Collects the frames of consecutive episodes and writes one data parquet per file group."""

    def __init__(self, root: Path, plan: ExportPlan) -> None:
        self.root = root
        self.plan = plan
        self.stats = {key: VectorStats(plan.total_frames) for key in (*VECTORS, *INDEX_FEATURES)}
        self._columns: dict[str, list[np.ndarray]] = {}
        self._location: tuple[int, int] | None = None
        self._index = 0

    def add(self, episode_index: int, traj: Trajectory) -> dict[str, Any]:
        """Add one trajectory's frames; returns its episode-metadata columns for data."""
        location = file_location(episode_index)
        if self._location is not None and location != self._location:
            self.flush()
        self._location = location
        n = traj.n_steps
        columns = {
            **_vectors(traj),
            "next.success": success_flags(traj),
            **self._index_columns(episode_index, traj),
        }
        for key, dim in self.plan.dims.items():
            if columns[key].shape[1] != dim:
                raise InputError(
                    f"trajectory {traj.trajectory_id!r}",
                    key,
                    f"has {columns[key].shape[1]} dims, the first trajectory {dim}",
                )
        for key, value in columns.items():
            self._columns.setdefault(key, []).append(value)
            if key in self.stats:
                self.stats[key].add(value)
        row = {
            "data/chunk_index": location[0],
            "data/file_index": location[1],
            "dataset_from_index": self._index,
            "dataset_to_index": self._index + n,
        }
        self._index += n
        return row

    def _index_columns(self, episode_index: int, traj: Trajectory) -> dict[str, np.ndarray]:
        steps = np.arange(traj.n_steps)
        return {
            "timestamp": (steps / self.plan.fps).astype(np.float32),
            "frame_index": steps.astype(np.int64),
            "episode_index": np.full(traj.n_steps, episode_index, np.int64),
            "index": (self._index + steps).astype(np.int64),
            "task_index": np.full(traj.n_steps, self.plan.tasks.index(traj.task), np.int64),
        }

    def flush(self) -> None:
        """Write the collected frames to their data file."""
        if self._location is None or not self._columns:
            return
        arrays = {}
        for key, parts in self._columns.items():
            value = np.concatenate(parts)
            if value.ndim == 2 and value.shape[1] == 1:  # LeRobot stores shape (1,) as a scalar
                arrays[key] = pa.array(value[:, 0].astype(np.float32))
            elif value.ndim == 2:
                arrays[key] = pa.FixedSizeListArray.from_arrays(
                    pa.array(value.astype(np.float32).ravel()), value.shape[1]
                )
            else:
                arrays[key] = pa.array(value)
        path = self.root / DATA_PATH.format(
            chunk_index=self._location[0], file_index=self._location[1]
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table(arrays), path)
        self._columns = {}


INDEX_FEATURES = (
    "timestamp",
    "frame_index",
    "episode_index",
    "index",
    "task_index",
    "next.success",
)


class CameraWriter:
    """Encodes one camera of every trajectory into the grouped video files.

    Args:
        pool: The pool.
        plan: The export plan.
        camera: Camera name.
        progress: Progress callback; called once per trajectory encoded.
        done: Units of progress already done before this camera.
    """

    def __init__(
        self, pool: Pool, plan: ExportPlan, camera: str, progress: ProgressCallback, done: int
    ) -> None:
        self.pool, self.plan, self.camera = pool, plan, camera
        self.key = f"observation.images.{camera}"
        self.progress, self.done = progress, done
        self.stats = ImageStats()
        self.rows: list[dict[str, Any]] = []
        """Per-episode `videos/<key>/...` columns, in episode order."""

    def write(self, root: Path) -> None:
        """Write every file group of this camera under `root`."""
        groups: dict[tuple[int, int], list[int]] = {}
        for episode_index in range(len(self.plan.ids)):
            groups.setdefault(file_location(episode_index), []).append(episode_index)
        for (chunk, file), members in groups.items():
            path = root / VIDEO_PATH.format(video_key=self.key, chunk_index=chunk, file_index=file)
            path.parent.mkdir(parents=True, exist_ok=True)
            frames = self._frames(chunk, file, members)
            write_video(path, frames, fps=self.plan.fps, crf=VIDEO_CRF, preset="fast")

    def _frames(self, chunk: int, file: int, members: list[int]) -> Iterator[np.ndarray]:
        start = 0
        total = len(self.plan.ids) * (1 + len(self.plan.cameras))
        for episode_index in members:
            traj = self.pool[self.plan.ids[episode_index]]
            size = self.plan.cameras[self.camera]
            video = _even(traj.frames[self.camera], size, traj.trajectory_id, self.camera)
            self.stats.add(video)
            self.rows.append(
                {
                    f"videos/{self.key}/chunk_index": chunk,
                    f"videos/{self.key}/file_index": file,
                    f"videos/{self.key}/from_timestamp": start / self.plan.fps,
                    f"videos/{self.key}/to_timestamp": (start + len(video)) / self.plan.fps,
                }
            )
            start += len(video)
            yield from video
            self.done += 1
            self.progress(self.done, total)


def _even(frames: np.ndarray, size: tuple[int, int], trajectory_id: str, camera: str) -> np.ndarray:
    height, width = frames.shape[1:3]
    if (height + height % 2, width + width % 2) != size:
        raise InputError(
            f"trajectory {trajectory_id!r}",
            f"frames[{camera!r}]",
            f"is {height}×{width}, others {size[0]}×{size[1]}",
        )
    if height % 2 or width % 2:
        frames = np.pad(frames, ((0, 0), (0, height % 2), (0, width % 2), (0, 0)), mode="edge")
    return np.asarray(frames, np.uint8)


def write_meta(
    root: Path, *, plan: ExportPlan, episodes: list[dict[str, Any]], stats: dict[str, Any]
) -> None:
    """Write meta/info.json, meta/stats.json, meta/tasks.parquet and the episodes parquet."""
    meta = root / "meta"
    (meta / "episodes" / "chunk-000").mkdir(parents=True, exist_ok=True)
    tasks = pd.DataFrame(
        {"task_index": np.arange(len(plan.tasks), dtype=np.int64)},
        index=pd.Index(plan.tasks, name="task"),
    )
    tasks.to_parquet(meta / "tasks.parquet")
    pq.write_table(_episodes_table(episodes), root / EPISODES_PATH)
    (meta / "stats.json").write_text(json.dumps(stats, indent=1))
    (meta / "info.json").write_text(json.dumps(info_json(plan, len(episodes)), indent=4))


def _episodes_table(episodes: list[dict[str, Any]]) -> pa.Table:
    """Episode rows as a table; all-null columns get a concrete type (LeRobot loads them)."""
    table = pa.Table.from_pylist(episodes)
    for i, field in enumerate(table.schema):
        if pa.types.is_null(field.type):
            kind = pa.bool_() if field.name == "robopref/success" else pa.string()
            table = table.set_column(i, pa.field(field.name, kind), table.column(i).cast(kind))
    return table


def info_json(plan: ExportPlan, n_episodes: int) -> dict[str, Any]:
    """The info.json of the export (LeRobot's DatasetInfo fields)."""
    features: dict[str, Any] = {}
    names = {"observation.ee_pos": ["x", "y", "z"], "observation.gripper": ["gripper"]}
    for key, dim in plan.dims.items():
        prefix = key.split(".")[-1]
        features[key] = {
            "dtype": "float32",
            "shape": [dim],
            "names": names.get(key, [f"{prefix}_{i}" for i in range(dim)]),
        }
    features["next.success"] = {"dtype": "bool", "shape": [1], "names": None}
    for camera, (height, width) in plan.cameras.items():
        features[f"observation.images.{camera}"] = {
            "dtype": "video",
            "shape": [height, width, 3],
            "names": ["height", "width", "channels"],
            "info": {
                "video.height": height,
                "video.width": width,
                "video.codec": "h264",
                "video.pix_fmt": "yuv420p",
                "video.fps": plan.fps,
                "video.channels": 3,
                "has_audio": False,
                "is_depth_map": False,
            },
        }
    features["timestamp"] = {"dtype": "float32", "shape": [1], "names": None}
    for key in ("frame_index", "episode_index", "index", "task_index"):
        features[key] = {"dtype": "int64", "shape": [1], "names": None}
    return {
        "codebase_version": CODEBASE_VERSION,
        "fps": plan.fps,
        "features": features,
        "total_episodes": n_episodes,
        "total_frames": plan.total_frames,
        "total_tasks": len(plan.tasks),
        "chunks_size": CHUNKS_SIZE,
        "data_files_size_in_mb": 100,
        "video_files_size_in_mb": 200,
        "data_path": DATA_PATH,
        "video_path": VIDEO_PATH if plan.cameras else None,
        "robot_type": None,
        "splits": {"train": f"0:{n_episodes}"},
    }

"""The LeRobotDataset folder layout (codebase v3.0, v2.1, v2.0), read with json and pyarrow only.

v3.0 (lerobot ≥ 0.4): `meta/info.json`, `meta/tasks.parquet` (task_index, task),
`meta/episodes/chunk-XXX/file-YYY.parquet` (one row per episode: `episode_index`, `tasks`,
`length`, `data/chunk_index`, `data/file_index`, `dataset_from_index`, `dataset_to_index`,
`videos/<key>/chunk_index|file_index|from_timestamp|to_timestamp`, `stats/...`), data in
`data/chunk-XXX/file-YYY.parquet` (many episodes per file), video in
`videos/<key>/chunk-XXX/file-YYY.mp4` (many episodes per file, back to back in time).

v2.1/v2.0 (lerobot ≤ 0.3.3): `meta/info.json`, `meta/tasks.jsonl`, `meta/episodes.jsonl`
(`episode_index`, `tasks`, `length`), one `data/chunk-XXX/episode_NNNNNN.parquet` and one
`videos/chunk-XXX/<key>/episode_NNNNNN.mp4` per episode, with the chunk = index // chunks_size;
both paths are templates in info.json (`data_path`, `video_path`).

A file the whole dataset depends on (info.json, the episode and task metadata) that is
unreadable stops the import; a metadata row that is malformed makes that episode an
`EpisodeError` (skipped with `--skip-bad`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from robopref.errors import InputError
from robopref.json_files import read_jsonl
from robopref.pool.ingest.arrays import require_steps
from robopref.pool.ingest.base import EpisodeError
from robopref.pool.ingest.fields import read_flag, read_int, read_names, read_number, read_text
from robopref.pool.ingest.lerobot_meta import (
    SUPPORTED_VERSIONS,
    LeRobotInfo,
    read_info,
    read_parquet_rows,
    read_stats,
)

__all__ = ["SUPPORTED_VERSIONS", "EpisodeSpec", "LeRobotLayout", "VideoSpan", "read_layout"]

EXPORT_TEXT = ("robopref/trajectory_id", "robopref/source", "robopref/env_id")
"""Text fields of an episode row written by `robopref.pool.export`."""


@dataclass(frozen=True)
class VideoSpan:
    """Where one camera's frames of one episode are: a file and the episode's start in it."""

    path: Path
    """The MP4 file (v3: shared by many episodes; v2: one per episode)."""
    from_s: float
    """Presentation time of the episode's first frame in the file (0 in v2)."""


@dataclass(frozen=True, kw_only=True)
class EpisodeSpec:
    """One episode as the metadata describes it."""

    index: int
    """`episode_index`."""
    length: int
    """Number of frames."""
    tasks: tuple[str, ...]
    """Task strings of the episode (the first is the instruction)."""
    data_file: Path
    """Parquet file holding its rows (rows with this `episode_index`)."""
    videos: dict[str, VideoSpan]
    """Video key → span."""
    extra: dict[str, Any]
    """Other per-episode metadata fields (e.g. `robopref/success`, a user's success column)."""


@dataclass(frozen=True, kw_only=True)
class LeRobotLayout:
    """The metadata of a LeRobotDataset folder."""

    root: Path
    info: LeRobotInfo
    """The checked fields of info.json."""
    episodes: list[EpisodeSpec | EpisodeError]
    """In `episode_index` order; a row that could not be read is an EpisodeError (last)."""
    tasks: dict[int, str]
    """`task_index` → task string."""
    stats: dict[str, tuple[np.ndarray, np.ndarray]]
    """Feature → dataset-wide (min, max), where the dataset records them."""

    @property
    def version(self) -> str:
        """`codebase_version` from info.json."""
        return self.info.version

    @property
    def fps(self) -> float:
        """Frame rate from info.json."""
        return self.info.fps

    @property
    def features(self) -> dict[str, dict[str, Any]]:
        """info.json `features`: key → {dtype, shape, names, info}."""
        return self.info.features

    @property
    def robot_type(self) -> str | None:
        """`robot_type` from info.json."""
        return self.info.robot_type

    @property
    def video_keys(self) -> list[str]:
        """Features stored as MP4 (`dtype == "video"`)."""
        return self.info.video_keys

    @property
    def image_keys(self) -> list[str]:
        """Features stored as PNG bytes inside the data parquet (`dtype == "image"`)."""
        return [k for k, f in self.features.items() if f["dtype"] == "image"]

    def state_names(self, key: str = "observation.state") -> list[str] | None:
        """Names of the dimensions of a vector feature, if info.json lists them flat."""
        names = self.features.get(key, {}).get("names")
        if isinstance(names, dict):  # older datasets: {"motors": [...]}
            names = next(iter(names.values()), None)
        return [str(n) for n in names] if isinstance(names, list) else None


def read_layout(root: Path) -> LeRobotLayout:
    """Read the metadata of the LeRobotDataset at `root`.

    Raises:
        InputError: Not a LeRobotDataset folder, an unsupported version, metadata that is
            missing or unreadable, or an episode index that appears twice.
    """
    info = read_info(root)
    if info.version == "v3.0":
        episodes, tasks = _episodes_v3(root, info), _tasks_v3(root)
    else:
        episodes, tasks = _episodes_v2(root, info), _tasks_v2(root)
    specs = [e for e in episodes if isinstance(e, EpisodeSpec)]
    _refuse_duplicates(specs, root)
    return LeRobotLayout(
        root=root,
        info=info,
        episodes=[*sorted(specs, key=lambda e: e.index), *_errors(episodes)],
        tasks=tasks,
        stats=read_stats(root),
    )


def _errors(episodes: list[EpisodeSpec | EpisodeError]) -> list[EpisodeError]:
    return [e for e in episodes if isinstance(e, EpisodeError)]


def _refuse_duplicates(specs: list[EpisodeSpec], root: Path) -> None:
    seen: set[int] = set()
    for spec in specs:
        if spec.index in seen:
            raise InputError(
                root / "meta", "episode_index", f"episode {spec.index} is listed twice"
            )
        seen.add(spec.index)


def _tasks_v3(root: Path) -> dict[int, str]:
    path = root / "meta" / "tasks.parquet"
    tasks = {}
    for number, row in enumerate(read_parquet_rows(path, field="tasks"), start=1):
        if "task" not in row:  # written by pandas with the index unnamed
            row["task"] = row.get("__index_level_0__")
        index = read_int(row.get("task_index"), path=path, field=f"row {number}.task_index")
        tasks[index] = _task_text(row.get("task"), path=path, field=f"row {number}.task")
    return tasks


def _tasks_v2(root: Path) -> dict[int, str]:
    path = root / "meta" / "tasks.jsonl"
    if not path.exists():
        return {}
    tasks = {}
    for number, row in enumerate(read_jsonl(path), start=1):
        index = read_int(row.get("task_index"), path=path, field=f"line {number}.task_index")
        tasks[index] = _task_text(row.get("task"), path=path, field=f"line {number}.task")
    return tasks


def _task_text(value: object, *, path: Path, field: str) -> str:
    text = read_text(value, path=path, field=field)
    if text is None:
        raise InputError(path, field, "missing or empty")
    return text


RowReader = Callable[[dict[str, Any], str], EpisodeSpec]
"""Builds the EpisodeSpec of one metadata row; the second argument names the row in errors."""


def _read_rows(
    path: Path, rows: list[dict[str, Any]], what: str, build: RowReader
) -> list[EpisodeSpec | EpisodeError]:
    """One EpisodeSpec per metadata row, or the EpisodeError of a row that is malformed."""
    episodes: list[EpisodeSpec | EpisodeError] = []
    for number, row in enumerate(rows, start=1):
        try:
            episodes.append(build(row, f"{path} ({what} {number})"))
        except InputError as exc:
            episodes.append(EpisodeError(_key(row, f"{what} {number}"), exc))
    return episodes


def _key(row: dict[str, Any], fallback: str) -> str:
    """The episode key of a metadata row: its index, else where the row is."""
    index = row.get("episode_index")
    is_int = isinstance(index, int) and not isinstance(index, bool) and index >= 0
    return str(index) if is_int else fallback


def _need(row: dict[str, Any], column: str, where: str) -> Any:
    if row.get(column) is None:
        raise InputError(where, column, "missing")
    return row[column]


def _index(row: dict[str, Any], column: str, where: str) -> int:
    return read_int(_need(row, column, where), path=where, field=column)


def _common(row: dict[str, Any], where: str) -> dict[str, Any]:
    """The fields of an episode row shared by v3 and v2 (index, length, tasks, extra)."""
    index = _index(row, "episode_index", where)
    length = require_steps(_index(row, "length", where), where=where, field="length")
    tasks = row.get("tasks")
    names = read_names([tasks] if isinstance(tasks, str) else tasks, path=where, field="tasks")
    extra = {k: v for k, v in row.items() if k not in ("episode_index", "tasks", "length")}
    for name in EXPORT_TEXT:
        if name in extra:
            extra[name] = read_text(extra[name], path=where, field=name)
    if "robopref/success" in extra:
        extra["robopref/success"] = read_flag(
            extra["robopref/success"], path=where, field="robopref/success"
        )
    return {"index": index, "length": length, "tasks": tuple(names or ()), "extra": extra}


def _episodes_v3(root: Path, info: LeRobotInfo) -> list[EpisodeSpec | EpisodeError]:
    files = sorted((root / "meta" / "episodes").glob("*/*.parquet"))
    if not files:
        raise InputError(
            root / "meta" / "episodes", "episodes", "no episode metadata parquet files"
        )
    episodes: list[EpisodeSpec | EpisodeError] = []
    for path in files:
        rows = read_parquet_rows(path, field="episodes", skip_prefix="stats/")
        episodes += _read_rows(path, rows, "row", lambda row, where: _v3(info, row, where))
    return episodes


def _v3(info: LeRobotInfo, row: dict[str, Any], where: str) -> EpisodeSpec:
    """The EpisodeSpec of one v3 `meta/episodes` row."""
    data_file = info.data_file(
        chunk_index=_index(row, "data/chunk_index", where),
        file_index=_index(row, "data/file_index", where),
    )
    videos = {}
    for key in info.video_keys:
        column = f"videos/{key}/from_timestamp"
        start = read_number(_need(row, column, where), path=where, field=column, minimum=0)
        file = info.video_file(
            video_key=key,
            chunk_index=_index(row, f"videos/{key}/chunk_index", where),
            file_index=_index(row, f"videos/{key}/file_index", where),
        )
        videos[key] = VideoSpan(file, start)
    common = _common(row, where)
    known = {"dataset_from_index", "dataset_to_index"}
    extra = {
        k: v
        for k, v in common.pop("extra").items()
        if k not in known and not k.startswith(("videos/", "data/", "meta/"))
    }
    return EpisodeSpec(**common, data_file=data_file, videos=videos, extra=extra)


def _episodes_v2(root: Path, info: LeRobotInfo) -> list[EpisodeSpec | EpisodeError]:
    path = root / "meta" / "episodes.jsonl"
    return _read_rows(path, read_jsonl(path), "line", lambda row, where: _v2(info, row, where))


def _v2(info: LeRobotInfo, row: dict[str, Any], where: str) -> EpisodeSpec:
    """The EpisodeSpec of one v2 `meta/episodes.jsonl` line."""
    common = _common(row, where)
    index = common["index"]
    chunk = index // info.chunks_size
    videos = {
        key: VideoSpan(
            info.video_file(episode_chunk=chunk, video_key=key, episode_index=index), 0.0
        )
        for key in info.video_keys
    }
    data_file = info.data_file(episode_chunk=chunk, episode_index=index)
    return EpisodeSpec(**common, data_file=data_file, videos=videos)

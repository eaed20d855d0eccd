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
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from robopref.errors import InputError

SUPPORTED_VERSIONS = ("v3.0", "v2.1", "v2.0")
"""`codebase_version` values this reader understands."""


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
    version: str
    """`codebase_version` from info.json."""
    fps: float
    features: dict[str, dict[str, Any]]
    """info.json `features`: key → {dtype, shape, names, info}."""
    robot_type: str | None
    episodes: list[EpisodeSpec]
    """In `episode_index` order."""
    tasks: dict[int, str]
    """`task_index` → task string."""
    stats: dict[str, tuple[np.ndarray, np.ndarray]]
    """Feature → dataset-wide (min, max), where the dataset records them."""

    @property
    def video_keys(self) -> list[str]:
        """Features stored as MP4 (`dtype == "video"`)."""
        return [k for k, f in self.features.items() if f.get("dtype") == "video"]

    @property
    def image_keys(self) -> list[str]:
        """Features stored as PNG bytes inside the data parquet (`dtype == "image"`)."""
        return [k for k, f in self.features.items() if f.get("dtype") == "image"]

    def state_names(self, key: str = "observation.state") -> list[str] | None:
        """Names of the dimensions of a vector feature, if info.json lists them flat."""
        names = self.features.get(key, {}).get("names")
        if isinstance(names, dict):  # older datasets: {"motors": [...]}
            names = next(iter(names.values()), None)
        return [str(n) for n in names] if isinstance(names, list) else None


def read_layout(root: Path) -> LeRobotLayout:
    """Read the metadata of the LeRobotDataset at `root`.

    Raises:
        InputError: Not a LeRobotDataset folder, an unsupported version, or missing metadata.
    """
    info_path = root / "meta" / "info.json"
    try:
        info = json.loads(info_path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(
            info_path, "info.json", f"unreadable, not a LeRobotDataset folder: {exc}"
        ) from exc
    version = str(info.get("codebase_version"))
    if version not in SUPPORTED_VERSIONS:
        raise InputError(
            info_path,
            "codebase_version",
            f"{version!r} not supported ({', '.join(SUPPORTED_VERSIONS)})",
        )
    for name in ("fps", "features", "data_path"):
        if name not in info:
            raise InputError(info_path, name, "missing")
    if version == "v3.0":
        episodes, tasks = _episodes_v3(root, info), _tasks_v3(root)
    else:
        episodes, tasks = _episodes_v2(root, info), _tasks_v2(root)
    return LeRobotLayout(
        root=root,
        version=version,
        fps=float(info["fps"]),
        features=dict(info["features"]),
        robot_type=info.get("robot_type"),
        episodes=sorted(episodes, key=lambda e: e.index),
        tasks=tasks,
        stats=_stats(root),
    )


def _tasks_v3(root: Path) -> dict[int, str]:
    path = root / "meta" / "tasks.parquet"
    try:
        frame = pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise InputError(path, "tasks.parquet", f"unreadable: {exc}") from exc
    if "task" not in frame.columns:  # written by pandas with the task string as the index
        frame = frame.rename_axis("task").reset_index()
    if "task_index" not in frame.columns:
        raise InputError(path, "task_index", "column missing")
    return {int(i): str(t) for i, t in zip(frame["task_index"], frame["task"], strict=True)}


def _episodes_v3(root: Path, info: dict[str, Any]) -> list[EpisodeSpec]:
    files = sorted((root / "meta" / "episodes").glob("*/*.parquet"))
    if not files:
        raise InputError(
            root / "meta" / "episodes", "episodes", "no episode metadata parquet files"
        )
    video_keys = [k for k, f in info["features"].items() if f.get("dtype") == "video"]
    episodes = []
    for path in files:
        columns = [c for c in pq.read_schema(path).names if not c.startswith("stats/")]
        for row in pq.read_table(path, columns=columns).to_pylist():
            episodes.append(_episode_v3(root, info, path, row, video_keys))
    return episodes


def _episode_v3(
    root: Path, info: dict[str, Any], path: Path, row: dict[str, Any], video_keys: list[str]
) -> EpisodeSpec:
    def need(column: str) -> Any:
        if row.get(column) is None:
            raise InputError(path, column, f"missing for episode {row.get('episode_index')}")
        return row[column]

    data_file = root / str(info["data_path"]).format(
        chunk_index=int(need("data/chunk_index")), file_index=int(need("data/file_index"))
    )
    videos = {}
    for key in video_keys:
        file = str(info.get("video_path")).format(
            video_key=key,
            chunk_index=int(need(f"videos/{key}/chunk_index")),
            file_index=int(need(f"videos/{key}/file_index")),
        )
        videos[key] = VideoSpan(root / file, float(need(f"videos/{key}/from_timestamp")))
    known = {"episode_index", "tasks", "length", "dataset_from_index", "dataset_to_index"}
    extra = {
        k: v
        for k, v in row.items()
        if k not in known and not k.startswith(("videos/", "data/", "meta/"))
    }
    return EpisodeSpec(
        index=int(need("episode_index")),
        length=int(need("length")),
        tasks=tuple(str(t) for t in need("tasks")),
        data_file=data_file,
        videos=videos,
        extra=extra,
    )


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    try:
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(path, path.name, f"unreadable: {exc}") from exc


def _episodes_v2(root: Path, info: dict[str, Any]) -> list[EpisodeSpec]:
    path = root / "meta" / "episodes.jsonl"
    chunks_size = int(info.get("chunks_size", 1000))
    video_keys = [k for k, f in info["features"].items() if f.get("dtype") == "video"]
    episodes = []
    for row in _read_jsonl(path):
        if "episode_index" not in row or "length" not in row:
            raise InputError(
                path,
                "episode_index" if "episode_index" not in row else "length",
                f"missing in {row}",
            )
        index = int(row["episode_index"])
        chunk = index // chunks_size
        videos = {
            key: VideoSpan(
                root
                / str(info["video_path"]).format(
                    episode_chunk=chunk, video_key=key, episode_index=index
                ),
                0.0,
            )
            for key in video_keys
        }
        tasks = row.get("tasks") or []
        episodes.append(
            EpisodeSpec(
                index=index,
                length=int(row["length"]),
                tasks=tuple(str(t) for t in (tasks if isinstance(tasks, list) else [tasks])),
                data_file=root
                / str(info["data_path"]).format(episode_chunk=chunk, episode_index=index),
                videos=videos,
                extra={
                    k: v for k, v in row.items() if k not in ("episode_index", "tasks", "length")
                },
            )
        )
    return episodes


def _tasks_v2(root: Path) -> dict[int, str]:
    path = root / "meta" / "tasks.jsonl"
    return (
        {int(r["task_index"]): str(r["task"]) for r in _read_jsonl(path)} if path.exists() else {}
    )


def _stats(root: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Dataset-wide (min, max) per feature: `meta/stats.json`, else from `episodes_stats.jsonl`."""
    path = root / "meta" / "stats.json"
    per_episode: list[dict[str, Any]] = []
    if path.exists():
        try:
            per_episode = [json.loads(path.read_text())]
        except (OSError, json.JSONDecodeError):
            per_episode = []
    elif (root / "meta" / "episodes_stats.jsonl").exists():
        per_episode = [
            r.get("stats", {}) for r in _read_jsonl(root / "meta" / "episodes_stats.jsonl")
        ]
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for stats in per_episode:
        for key, value in stats.items():
            if not isinstance(value, dict) or "min" not in value or "max" not in value:
                continue
            lo, hi = np.asarray(value["min"], np.float64), np.asarray(value["max"], np.float64)
            if key in out and out[key][0].shape == lo.shape:
                lo, hi = np.minimum(out[key][0], lo), np.maximum(out[key][1], hi)
            out[key] = (lo, hi)
    return out

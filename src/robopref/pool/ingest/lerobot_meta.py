"""The typed readers of a LeRobotDataset's metadata: info.json, parquet rows, path templates, stats.

Every field robopref uses is checked here for type and range as it is read (fps a positive
number, features an object of objects, templates that expand to paths inside the dataset,
stats of finite numbers), so a malformed value is an InputError naming the file and field.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from robopref.errors import InputError, shown
from robopref.json_files import as_object, read_json, read_jsonl
from robopref.pool.ingest.fields import read_fps, read_int, read_text

SUPPORTED_VERSIONS = ("v3.0", "v2.1", "v2.0")
"""`codebase_version` values this reader understands."""
PARQUET_ERRORS = (OSError, ValueError, pa.ArrowException)
"""What pyarrow raises on a truncated, corrupt or mistyped parquet file."""
FORMAT_ERRORS = (KeyError, IndexError, ValueError, AttributeError, TypeError)
"""What `str.format` raises on a template that does not fit its arguments."""

Range = tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True, kw_only=True)
class LeRobotInfo:
    """The fields of `meta/info.json` robopref uses, checked."""

    root: Path
    """The dataset folder."""
    path: Path
    """The info.json file (named in errors)."""
    version: str
    """`codebase_version`."""
    fps: float
    features: dict[str, dict[str, Any]]
    """Feature key → {dtype, shape, names, info}; each an object with a text `dtype`."""
    data_path: str
    """Template of data parquet paths, relative to the dataset root."""
    video_path: str | None
    """Template of video paths (required if a feature has dtype `video`)."""
    chunks_size: int
    """Episodes per chunk folder (v2 layouts)."""
    robot_type: str | None

    @property
    def video_keys(self) -> list[str]:
        """Features stored as MP4 (`dtype == "video"`)."""
        return [k for k, f in self.features.items() if f["dtype"] == "video"]

    def data_file(self, **values: int) -> Path:
        """The data parquet of an episode (`data_path` expanded inside the root)."""
        return expand(self.root, self.data_path, path=self.path, field="data_path", **values)

    def video_file(self, **values: int | str) -> Path:
        """A video file (`video_path` expanded inside the root)."""
        template = self.video_path or ""
        return expand(self.root, template, path=self.path, field="video_path", **values)

    def check_templates(self) -> None:
        """Expand the path templates once, so that one that cannot is a dataset-level error.

        Raises:
            InputError: A template that does not fit this version's fields or leaves the root.
        """
        if self.version == "v3.0":
            self.data_file(chunk_index=0, file_index=0)
            for key in self.video_keys:
                self.video_file(video_key=key, chunk_index=0, file_index=0)
        else:
            self.data_file(episode_chunk=0, episode_index=0)
            for key in self.video_keys:
                self.video_file(video_key=key, episode_chunk=0, episode_index=0)


def read_info(root: Path) -> LeRobotInfo:
    """Read and check `root/meta/info.json`.

    Raises:
        InputError: Missing or not JSON (not a LeRobotDataset folder), an unsupported
            version, or a field of the wrong type or value.
    """
    path = root / "meta" / "info.json"
    if not path.is_file():
        raise InputError(path, "info.json", "missing: not a LeRobotDataset folder")
    info = as_object(read_json(path), path=path, field="info.json")
    version = info.get("codebase_version")
    if not isinstance(version, str) or version not in SUPPORTED_VERSIONS:
        raise InputError(
            path,
            "codebase_version",
            f"{shown(version)} not supported ({', '.join(SUPPORTED_VERSIONS)})",
        )
    features = read_features(info.get("features"), path=path)
    video_path = _template(info.get("video_path"), path=path, field="video_path")
    if video_path is None and any(f["dtype"] == "video" for f in features.values()):
        raise InputError(path, "video_path", "missing, but features of dtype video exist")
    data_path = _template(info.get("data_path"), path=path, field="data_path")
    if data_path is None:
        raise InputError(path, "data_path", "missing")
    checked = LeRobotInfo(
        root=root,
        path=path,
        version=version,
        fps=read_fps(info.get("fps"), path=path, field="fps"),
        features=features,
        data_path=data_path,
        video_path=video_path,
        chunks_size=read_int(
            info.get("chunks_size", 1000), path=path, field="chunks_size", minimum=1
        ),
        robot_type=read_text(info.get("robot_type"), path=path, field="robot_type"),
    )
    checked.check_templates()
    return checked


def read_features(value: object, *, path: Path) -> dict[str, dict[str, Any]]:
    """info.json `features`: an object of feature objects, each with a text `dtype`.

    Raises:
        InputError: Missing, not an object, a feature that is not one, or a bad key/dtype.
    """
    if value is None:
        raise InputError(path, "features", "missing")
    features = as_object(value, path=path, field="features")
    checked = {}
    for key, feature in features.items():
        field = f"features.{key}" if len(key) < 200 else "features"
        if read_text(key, path=path, field="features", max_chars=1000) is None:
            raise InputError(path, "features", "has a feature with an empty name")
        spec = as_object(feature, path=path, field=field)
        spec["dtype"] = read_text(spec.get("dtype"), path=path, field=f"{field}.dtype")
        if spec["dtype"] is None:
            raise InputError(path, f"{field}.dtype", "missing")
        names = spec.get("names")
        if names is not None and not isinstance(names, list | dict):
            raise InputError(path, f"{field}.names", f"must be a list or null, got {shown(names)}")
        checked[key] = spec
    return checked


def _template(value: object, *, path: Path, field: str) -> str | None:
    return read_text(value, path=path, field=field, max_chars=1000)


def expand(root: Path, template: str, *, path: Path, field: str, **values: Any) -> Path:
    """`root / template.format(**values)`, refused unless it stays inside `root`.

    The check is on the path as written (no `..` above the root, not absolute), not on
    where symlinks lead: datasets in the Hugging Face cache are symlinks to blobs elsewhere.

    >>> expand(Path("/d"), "data/{i:03d}.parquet", path=Path("info.json"), field="data_path", i=2)
    PosixPath('/d/data/002.parquet')

    Raises:
        InputError: The template does not fit its arguments, or leads outside `root`.
    """
    try:
        relative = template.format(**values)
    except FORMAT_ERRORS as exc:
        raise InputError(
            path, field, f"template {shown(template)} does not expand: {exc!r}"
        ) from exc
    normal = os.path.normpath(relative)
    if os.path.isabs(relative) or normal == ".." or normal.startswith(("../", "/")):
        raise InputError(path, field, f"{shown(relative)} leads outside the dataset folder")
    return root / normal


def read_parquet_rows(
    path: Path, *, field: str, skip_prefix: str | None = None
) -> list[dict[str, Any]]:
    """The rows of a metadata parquet file as dicts (columns starting with `skip_prefix` left out).

    Raises:
        InputError: Missing, truncated or otherwise unreadable.
    """
    if not path.is_file():
        raise InputError(path, field, "file missing")
    try:
        names = pq.read_schema(path).names
        columns = [c for c in names if not (skip_prefix and c.startswith(skip_prefix))]
        rows: list[dict[str, Any]] = pq.read_table(path, columns=columns).to_pylist()
    except PARQUET_ERRORS as exc:
        raise InputError(path, field, f"unreadable parquet: {exc}") from exc
    return rows


def read_stats(root: Path) -> dict[str, Range]:
    """Dataset-wide (min, max) per feature: `meta/stats.json`, else `episodes_stats.jsonl`.

    Raises:
        InputError: A stats file that is unreadable, or whose min/max are not finite numbers
            of one shape (remove the file to import without dataset ranges).
    """
    path = root / "meta" / "stats.json"
    per_file: list[tuple[Path, str, dict[str, Any]]] = []
    if path.exists():
        per_file = [(path, "", as_object(read_json(path), path=path, field="stats.json"))]
    elif (root / "meta" / "episodes_stats.jsonl").exists():
        path = root / "meta" / "episodes_stats.jsonl"
        for number, row in enumerate(read_jsonl(path), start=1):
            field = f"line {number}.stats"
            per_file.append((path, field, as_object(row.get("stats"), path=path, field=field)))
    out: dict[str, Range] = {}
    for file, prefix, stats in per_file:
        for key, value in stats.items():
            field = f"{prefix}.{key}" if prefix else key
            span = _min_max(value, path=file, field=field)
            if span is None:
                continue
            lo, hi = span
            if key in out and out[key][0].shape == lo.shape:
                lo, hi = np.minimum(out[key][0], lo), np.maximum(out[key][1], hi)
            out[key] = (lo, hi)
    return out


def _min_max(value: object, *, path: Path, field: str) -> Range | None:
    """(min, max) of one feature's stats, or None if it records neither."""
    stats = as_object(value, path=path, field=field)
    if "min" not in stats or "max" not in stats:
        return None
    arrays = []
    for name in ("min", "max"):
        try:
            array = np.asarray(stats[name], dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise InputError(path, f"{field}.{name}", f"must be numbers: {exc}") from exc
        if array.size == 0 or not np.isfinite(array).all():
            raise InputError(path, f"{field}.{name}", "must be finite numbers, and not empty")
        arrays.append(array)
    if arrays[0].shape != arrays[1].shape:
        raise InputError(
            path, f"{field}.max", f"shape {arrays[1].shape} != min's {arrays[0].shape}"
        )
    return arrays[0], arrays[1]

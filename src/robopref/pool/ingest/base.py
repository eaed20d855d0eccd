"""The Importer interface: a source format read episode by episode, malformed ones as errors."""

from __future__ import annotations

import hashlib
import importlib
import json
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from robopref.errors import InputError
from robopref.pool.config import IngestConfig
from robopref.pool.ingest.fields import read_text
from robopref.pool.trajectory import MetadataValue, Trajectory
from robopref.safe_paths import MAX_NAME_CHARS, NameMap, safe_name

CAMERA_CHARS = MAX_NAME_CHARS - len(".mp4")
"""Longest camera name: the pool stores `<camera>.mp4`, which must itself be a safe name."""


@dataclass(frozen=True)
class EpisodeError:
    """An episode that could not be read; `ingest` skips it (`skip_bad`) or raises `error`."""

    episode: str
    """The episode's key in the source (episode index, demo key, file name)."""
    error: InputError
    """What is wrong, naming the file and field."""


class Importer(ABC):
    """Reads one source (folder or file) of a format. Dataset-level problems raise at once.

    Subclasses open and check the source in `__init__` (raising InputError for problems that
    concern the whole dataset), list the episode keys, and build one Trajectory per key,
    reading each raw field through the typed readers of `fields` and `arrays` so that any
    problem with an episode's data is an InputError about that episode.

    Names from data never become paths as they are: trajectory ids are `safe_name`s of
    `<id_prefix>-<episode>` (`trajectory_id`), camera names go through a `NameMap` of the
    importer, and the originals are kept in the metadata (`source_episode`,
    `source_cameras`).
    """

    format_name: ClassVar[str]
    """Name used on the command line (`robopref pool ingest <format_name> ...`)."""

    def __init__(self, source: Path, config: IngestConfig) -> None:
        if not source.exists():
            raise InputError(source, "source", "does not exist")
        self.source = source
        self.config = config
        for option in ("task", "env_id", "source_label", "source_dataset"):
            read_text(getattr(config, option), path="command line", field=option)
        label = config.source_dataset or str(source.resolve())
        self.dataset_label = read_text(label, path=source, field="source_dataset") or label
        """Recorded as `metadata["source_dataset"]` on every trajectory."""
        self.id_prefix = config.id_prefix or safe_id(
            source.stem if source.is_file() else source.name
        )
        self._ids = NameMap(source, "trajectory_id")

    @abstractmethod
    def episode_keys(self) -> list[str]:
        """Keys of the episodes in the source, in import order."""

    @abstractmethod
    def read_episode(self, key: str) -> Trajectory:
        """Build the Trajectory of one episode.

        Raises:
            InputError: The episode is malformed (missing field, length mismatch, bad video).
        """

    def iter_episodes(self, keys: Iterable[str]) -> Iterator[Trajectory | EpisodeError]:
        """Each episode as a Trajectory, or an EpisodeError naming what is wrong with it."""
        for key in keys:
            try:
                yield self.read_episode(key)
            except InputError as exc:
                yield EpisodeError(key, exc)

    def close(self) -> None:  # noqa: B027 - optional hook, most importers hold nothing open
        """Release open files."""

    def episode_name(self, key: str) -> str:
        """The episode's part of its trajectory id (the key; LeRobot: `ep000003`)."""
        return key

    def trajectory_id(self, key: str) -> str:
        """The pool id of the episode `key`: `<id_prefix>-<episode_name>`, made safe.

        Unchanged if already a safe name, else cleaned, shortened and given a digest of the
        original (`safe_paths.safe_name`).

        Raises:
            InputError: Another episode of this source already maps to the same id.
        """
        return self._ids.add(f"{self.id_prefix}-{self.episode_name(key)}")

    def trajectory(self, where: str, **fields: Any) -> Trajectory:
        """`Trajectory(**fields)`; a record it refuses is reported against `where` (the file).

        Raises:
            InputError: Naming `where` and the Trajectory field at fault.
        """
        try:
            return Trajectory(**fields)
        except InputError as exc:
            raise InputError(where, exc.field, exc.message) from exc

    def source_label(self, from_data: str | None) -> str:
        """Source tier: the user's label, else the one stored with the data, else the format."""
        return self.config.source_label or from_data or self.format_name


def safe_id(text: str) -> str:
    """`text` with characters outside letters, digits, `-`, `_`, `.` replaced by `_`.

    Used for the default id prefix (the source's name); the whole id is then made safe by
    `safe_name`, which also shortens it.

    >>> safe_id("lerobot/koch pick")
    'lerobot_koch_pick'
    """
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text) or "dataset"


def add_camera(names: NameMap, original: str) -> str:
    """The safe camera name of `original` in `names`, short enough for `<camera>.mp4`.

    A name whose safe form is longer than CAMERA_CHARS is first cut and given a digest of
    the whole, so that different long names stay apart.

    >>> len(add_camera(NameMap("x.npz", "frames_<camera>"), "c" * 300)) <= CAMERA_CHARS
    True
    """
    if len(safe_name(original)) > CAMERA_CHARS:
        digest = hashlib.sha256(original.encode("utf-8", "surrogatepass")).hexdigest()
        original = f"{original[: CAMERA_CHARS - 24]}-{digest[:8]}"
    return names.add(original)


def cameras_metadata(mapping: Mapping[str, str]) -> dict[str, MetadataValue]:
    """`{"source_cameras": JSON of source key → camera name}` for an episode's cameras.

    >>> cameras_metadata({"frames_top": "top"})
    {'source_cameras': '{"frames_top": "top"}'}
    >>> cameras_metadata({})
    {}
    """
    return {"source_cameras": json.dumps(dict(mapping))} if mapping else {}


REGISTRY: dict[str, type[Importer]] = {}
"""Format name → Importer class; filled as `importer_class` imports each format's module."""

FORMAT_MODULES: dict[str, str] = {
    "lerobot": "robopref.pool.ingest.lerobot",
    "robomimic": "robopref.pool.ingest.robomimic",
    "npz": "robopref.pool.ingest.npz",
}
"""Where each format's importer lives; imported on first use (h5py, PIL stay unloaded)."""


def register(cls: type[Importer]) -> type[Importer]:
    """Class decorator adding an importer to REGISTRY under its `format_name`."""
    REGISTRY[cls.format_name] = cls
    return cls


def importer_class(fmt: str) -> type[Importer]:
    """The Importer class of a format, importing its module on first use.

    Raises:
        InputError: Unknown format.
    """
    if fmt not in REGISTRY and fmt in FORMAT_MODULES:
        importlib.import_module(FORMAT_MODULES[fmt])
    if fmt not in REGISTRY:
        raise InputError(
            fmt, "format", f"unknown format; choose one of {', '.join(sorted(FORMAT_MODULES))}"
        )
    return REGISTRY[fmt]

"""The Importer interface: a source format read episode by episode, malformed ones as errors."""

from __future__ import annotations

import importlib
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from robopref.errors import InputError
from robopref.pool.config import IngestConfig
from robopref.pool.trajectory import Trajectory


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
    concern the whole dataset), list the episode keys, and build one Trajectory per key.
    """

    format_name: ClassVar[str]
    """Name used on the command line (`robopref pool ingest <format_name> ...`)."""

    def __init__(self, source: Path, config: IngestConfig) -> None:
        if not source.exists():
            raise InputError(source, "source", "does not exist")
        self.source = source
        self.config = config
        self.dataset_label = config.source_dataset or str(source.resolve())
        """Recorded as `metadata["source_dataset"]` on every trajectory."""
        self.id_prefix = config.id_prefix or safe_id(
            source.stem if source.is_file() else source.name
        )

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

    def trajectory_id(self, key: str) -> str:
        """The pool id of the episode `key`: `<id_prefix>-<key>`."""
        return f"{self.id_prefix}-{safe_id(key)}"

    def source_label(self, from_data: str | None) -> str:
        """Source tier: the user's label, else the one stored with the data, else the format."""
        return self.config.source_label or from_data or self.format_name


def safe_id(text: str) -> str:
    """`text` with characters outside letters, digits, `-`, `_`, `.` replaced by `_`.

    >>> safe_id("lerobot/koch pick")
    'lerobot_koch_pick'
    """
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text) or "dataset"


def as_success(value: object, *, where: str, field: str) -> bool:
    """Interpret a stored success flag: bool, 0/1, "true"/"false", or a per-step array (any).

    Raises:
        InputError: The value is not a recognisable flag.
    """
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "1", "yes", "success"):
            return True
        if lowered in ("false", "0", "no", "failure", "fail"):
            return False
        raise InputError(where, field, f"cannot read {value!r} as success")
    array = np.asarray(value)
    if array.dtype.kind not in "biuf" or array.size == 0:
        raise InputError(where, field, f"cannot read {value!r} as success")
    return bool(np.any(array != 0))


def first_true(values: np.ndarray) -> int | None:
    """Index of the first non-zero entry of a per-step flag, or None.

    >>> first_true(np.array([0, 0, 1, 1]))
    2
    """
    hits = np.flatnonzero(np.asarray(values).reshape(len(values), -1).any(axis=1))
    return int(hits[0]) if len(hits) else None


def as_float_matrix(
    value: np.ndarray, *, where: str, field: str, n: int | None = None
) -> np.ndarray:
    """A (T, D) float32 copy of a per-step array ((T,) becomes (T, 1)).

    Raises:
        InputError: Not numeric, wrong rank, wrong length, or not finite.
    """
    array = np.asarray(value)
    if array.dtype.kind not in "biuf":
        raise InputError(where, field, f"must be numeric, got dtype {array.dtype}")
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise InputError(where, field, f"must be (T, D), got shape {array.shape}")
    if n is not None and len(array) != n:
        raise InputError(where, field, f"has {len(array)} rows, expected {n}")
    if not np.isfinite(array).all():
        raise InputError(where, field, "contains NaN or infinite values")
    return array.astype(np.float32)


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

"""The embedding cache: per-frame features of a pool's camera clips, content-addressed.

Layout under a cache root (`default_root(pool)`, usually `POOL/.cache/embeddings/`):

    <root>/emb-<16 hex>/          one folder per EmbeddingKey (backbone, weights, size, ...)
        key.json                  the key's fields, for people (never read back)
        <sha256 of the MP4>.npz   one entry per clip: `features` (T, views, F) float16 and
                                  `clip_digest`, the digest it was computed from

An entry is named by the SHA-256 of the camera's MP4 file, never by a trajectory id: an
unchanged clip is found again whatever trajectory or pool it belongs to, and a re-rendered or
re-ingested clip with other frames is a miss. Entries are written to a temporary name in their
folder and renamed into place, so a reader sees a whole entry or none, and several processes
can fill one cache at once; an entry that does not read back whole (a CRC error, a truncated
file, the wrong shape) is treated as a miss, logged, and rewritten.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import torch

from robopref.atomic import write_atomic, write_text_atomic
from robopref.errors import InputError
from robopref.pool.layout import NPZ_ERRORS
from robopref.pool.pool import Pool
from robopref.safe_paths import path_inside

__all__ = [
    "CACHE_FOLDER",
    "EMBED_FORMAT",
    "EmbeddingCache",
    "EmbeddingKey",
    "EncoderSpec",
    "FrameEncoder",
    "clip_digest",
    "default_root",
    "user_cache_root",
]

logger = logging.getLogger(__name__)

EMBED_FORMAT = 1
"""Version of the entry format and of how features are computed (views, shifts); part of
every key, so changing either moves the cache to new folders instead of mixing old entries."""

CACHE_FOLDER = (".cache", "embeddings")
"""Where `default_root` puts the cache inside a pool folder."""


class EncoderSpec(Protocol):
    """What the cache needs of a backbone's spec: its registry name."""

    @property
    def name(self) -> str:
        """Registry key, e.g. `efficientnet_lite0`."""
        ...


class FrameEncoder(Protocol):
    """Anything that embeds frames: `robopref.vision.backbones.Backbone`, or a test module.

    Called on (N, H, W, 3) uint8 RGB frames (any H, W: it resizes to `input_size` itself),
    returns (N, feature_dim) float features.
    """

    @property
    def spec(self) -> EncoderSpec:
        """The registry entry (its `name` goes into the cache key)."""
        ...

    @property
    def input_size(self) -> int:
        """Side in pixels the frames are resized to."""
        ...

    @property
    def weights_digest(self) -> str:
        """`sha256:<hex>` of the weights file (or `random`)."""
        ...

    @property
    def feature_dim(self) -> int:
        """Width of one frame's feature vector."""
        ...

    def __call__(self, frames: torch.Tensor) -> torch.Tensor:
        """(N, H, W, 3) uint8 → (N, feature_dim) float."""
        ...


@dataclass(frozen=True, kw_only=True)
class EmbeddingKey:
    """Everything that changes a clip's features, apart from the clip itself.

    Attributes:
        backbone: The backbone's registry name (`BackboneSpec.name`).
        weights_digest: Digest of its weights file.
        input_size: Side the frames are resized to before the backbone.
        camera: The pool camera embedded.
        views: Views per frame: view 0 is the frame itself, views 1.. random shifts of it.
        shift: Largest shift in pixels of views 1.. (at the stored frame size); ignored, and
            left out of the folder name, when `views` is 1.
    """

    backbone: str
    weights_digest: str
    input_size: int
    camera: str
    views: int = 1
    shift: int = 4

    def __post_init__(self) -> None:
        for field, value, low in (
            ("input_size", self.input_size, 1),
            ("views", self.views, 1),
            ("shift", self.shift, 0),
        ):
            if type(value) is not int or value < low:
                raise InputError(
                    "embedding key", field, f"must be an integer ≥ {low}, got {value!r}"
                )

    @property
    def fields(self) -> dict[str, object]:
        """The fields that name the folder, with the format version."""
        fields: dict[str, object] = {"embed_format": EMBED_FORMAT, **asdict(self)}
        if self.views == 1:
            fields.pop("shift")  # one unaugmented view: the shift changes nothing
        return fields

    @property
    def folder_name(self) -> str:
        """`emb-<16 hex>`: a digest of every field and EMBED_FORMAT."""
        text = json.dumps(self.fields, sort_keys=True)
        return f"emb-{hashlib.sha256(text.encode()).hexdigest()[:16]}"


_DIGESTS: dict[tuple[str, int, int, int], str] = {}
_DIGESTS_LOCK = threading.Lock()


def clip_digest(path: Path) -> str:
    """SHA-256 (hex) of a file, read in 1 MiB blocks.

    Remembered within the process for the file's (path, inode, size, mtime_ns), so asking
    again about an unchanged file reads nothing; a file replaced or rewritten is read again.

    Raises:
        InputError: The file cannot be read.
    """
    try:
        stat = path.stat()
        memo = (str(path.resolve()), stat.st_ino, stat.st_size, stat.st_mtime_ns)
        with _DIGESTS_LOCK:
            known = _DIGESTS.get(memo)
        if known is not None:
            return known
        sha = hashlib.sha256()
        with open(path, "rb") as handle:
            while block := handle.read(1 << 20):
                sha.update(block)
    except OSError as exc:
        raise InputError(path, "video", f"cannot read: {exc}") from exc
    digest = sha.hexdigest()
    with _DIGESTS_LOCK:
        _DIGESTS[memo] = digest
    return digest


_ENTRY_ERRORS = NPZ_ERRORS
"""What numpy and zipfile raise on a truncated or corrupt .npz (the zip CRC catches bit flips)."""


class EmbeddingCache:
    """Per-frame features of one pool camera, content-addressed by the clip's MP4 digest.

    An unchanged clip is never embedded twice and a changed one never reuses stale features;
    entries are written atomically (temp name in the same folder + os.replace), so processes
    may share a cache. Nothing is written until the first `put`.

    Args:
        key: What the features were computed with (names the folder).
        root: The cache root, usually `default_root(pool)`.
    """

    def __init__(self, key: EmbeddingKey, root: Path) -> None:
        self.key = key
        self.root = Path(root)
        self.folder = self.root / key.folder_name
        """The folder of this key's entries."""

    def entry_path(self, digest: str) -> Path:
        """The entry file of the clip whose MP4 has this SHA-256 (hex)."""
        return path_inside(self.folder, f"{digest}.npz")

    def get(self, clip: Path) -> np.ndarray | None:
        """The clip's cached (T, views, F) float16 features, or None (absent or unreadable)."""
        return self.get_digest(clip_digest(clip))

    def get_digest(self, digest: str) -> np.ndarray | None:
        """Like `get`, for a clip whose digest is already known."""
        path = self.entry_path(digest)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as npz:
                features: np.ndarray = npz["features"]
                stored = str(npz["clip_digest"])
        except _ENTRY_ERRORS as exc:
            logger.warning("embedding cache entry %s unreadable (%s); embedding again", path, exc)
            return None
        problem = self._problem(features, digest, stored)
        if problem:
            logger.warning("embedding cache entry %s %s; embedding again", path, problem)
            return None
        return features

    def _problem(self, features: np.ndarray, digest: str, stored: str) -> str | None:
        if stored != digest:
            return f"was computed from clip {stored[:16]}…, not {digest[:16]}…"
        if features.dtype != np.float16 or features.ndim != 3:
            return f"holds {features.dtype} {features.shape}, not (T, views, F) float16"
        if features.shape[1] != self.key.views:
            return f"has {features.shape[1]} views, not {self.key.views}"
        return None

    def put(self, clip: Path, features: np.ndarray) -> None:
        """Store a clip's (T, views, F) features (as float16), replacing any old entry."""
        self.put_digest(clip_digest(clip), features)

    def put_digest(self, digest: str, features: np.ndarray) -> None:
        """Like `put`, for a clip whose digest is already known."""
        array = np.ascontiguousarray(features, dtype=np.float16)
        if array.ndim != 3 or array.shape[1] != self.key.views:
            raise ValueError(f"expected (T, {self.key.views}, F) features, got {array.shape}")
        if not (self.folder / "key.json").is_file():
            text = json.dumps(self.key.fields, indent=1, sort_keys=True)
            write_text_atomic(self.folder / "key.json", text)

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as handle:  # a handle: np.savez would append .npz to a name
                np.savez(handle, features=array, clip_digest=np.asarray(digest))

        write_atomic(self.entry_path(digest), write)


def user_cache_root() -> Path:
    """`$XDG_CACHE_HOME/robopref/embeddings` (default `~/.cache/...`).

    Entries are content-addressed, so pools may share this folder.
    """
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "robopref" / "embeddings"


def default_root(pool: Pool) -> Path:
    """`POOL/.cache/embeddings`, or `user_cache_root()` when the pool cannot be written."""
    inside = pool.root.joinpath(*CACHE_FOLDER)
    if _writable(inside):
        return inside
    fallback = user_cache_root()
    logger.info("pool %s is not writable: embedding cache in %s", pool.root, fallback)
    return fallback


def _writable(folder: Path) -> bool:
    """True if `folder` exists and is writable, or could be created (checks, creates nothing)."""
    probe = folder
    while not probe.exists():
        if probe.parent == probe:
            return False
        probe = probe.parent
    return probe.is_dir() and os.access(probe, os.W_OK | os.X_OK)

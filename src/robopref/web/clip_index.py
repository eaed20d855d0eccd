"""Clip display ids ↔ trajectory ids under the pool's display key, cached per process."""

from __future__ import annotations

import logging
import os
import secrets
import stat
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from robopref.errors import InputError
from robopref.render import CLIPS, clip_display_id, has_burned_id, load_display_key
from robopref.render.clip import clip_files
from robopref.store import Store, trajectories_frame

logger = logging.getLogger(__name__)

MIN_RELOAD_S = 2.0
"""An unknown id reloads the index at most this often (new trajectories appear)."""
MAX_CACHED_CLIP_BYTES = 8 * 2**20
"""Clips up to this size are answered from memory; larger ones are read from disk."""
CACHE_BUDGET_BYTES = 256 * 2**20
"""Most clip bytes one process keeps in memory (least recently served dropped first)."""

_Version = tuple[int, int, int]
"""A file's (inode, modification time in ns, size): changes when it is rewritten."""


def _version(found: os.stat_result) -> _Version:
    return (found.st_ino, found.st_mtime_ns, found.st_size)


@dataclass(frozen=True)
class ClipFile:
    """A clip that may be served: its video file, that file's stat, its bytes if cached."""

    path: Path
    """The video inside `POOL/clips/`."""
    stat: os.stat_result
    """The video's stat when it was looked up (size, ETag and Last-Modified come from it)."""
    data: bytes | None
    """The whole file, when it is small enough to be kept in memory."""


class ClipIndex:
    """Maps opaque clip display ids back to trajectory ids; never the other way to clients.

    Display ids come from the pool's display key (`POOL/clips/display-key.json`, written
    by `robopref render`), so they equal the ids burned into the clips and stay the same
    across restarts. A pool without a key gets a random one for this process: ids are still
    opaque, and no clip is servable (none carries an id under it).
    """

    def __init__(self, store: Store, pool: Path) -> None:
        """Index the trajectories of `store`, lazily, with the display key of `pool`.

        Raises:
            InputError: The pool's display key file is malformed.
        """
        self._store = store
        self.clips_dir = Path(pool) / CLIPS
        key = load_display_key(self.clips_dir)
        if key is None:
            logger.warning("%s has no display key: no clip is served until "
                           "`robopref render --force %s`", self.clips_dir, pool)
            key = secrets.token_bytes(32)
        self._key = key
        self._ids: dict[str, str] = {}
        self._loaded_at = float("-inf")
        self._lock = threading.Lock()
        self._paths: dict[str, tuple[Path, Path] | None] = {}
        self._burned: dict[str, tuple[_Version, bool]] = {}
        self._bytes: OrderedDict[str, tuple[_Version, bytes]] = OrderedDict()
        self._cached_bytes = 0
        self._bytes_lock = threading.Lock()

    def display_id(self, trajectory_id: str) -> str:
        """The display id of a trajectory's clip."""
        return clip_display_id(self._key, trajectory_id)

    def trajectory_id(self, clip_id: str) -> str | None:
        """The trajectory a display id stands for, or None when the store has none such."""
        found = self._ids.get(clip_id)
        if found is None and time.monotonic() - self._loaded_at > MIN_RELOAD_S:
            self._reload()
            found = self._ids.get(clip_id)
        return found

    def known_trajectory(self, clip_id: str) -> str | None:
        """`trajectory_id` without reloading the index (None: unknown so far)."""
        return self._ids.get(clip_id)

    def clip_in_memory(self, trajectory_id: str) -> ClipFile | None:
        """`clip` when two `stat` calls suffice, else None (ask `clip`).

        That is when the sidecar was checked and the bytes cached for the files' current
        versions: cheap enough for the event loop.
        """
        paths = self._paths.get(trajectory_id)
        burned = self._burned.get(trajectory_id)
        cached = self._bytes.get(trajectory_id)
        if paths is None or burned is None or not burned[1] or cached is None:
            return None
        video, sidecar = paths
        try:
            sidecar_stat, video_stat = sidecar.stat(), video.stat()
        except OSError:
            return None
        if (burned[0] != _version(sidecar_stat) or cached[0] != _version(video_stat)
                or not stat.S_ISREG(video_stat.st_mode)):
            return None
        with self._bytes_lock:
            if trajectory_id in self._bytes:
                self._bytes.move_to_end(trajectory_id)
        return ClipFile(video, video_stat, cached[1])

    def clip(self, trajectory_id: str) -> ClipFile | None:
        """The trajectory's clip, when its file exists and carries its display id burned in.

        Two `stat` calls per request: the sidecar check (`burned_id` equals the display id)
        and the cached bytes are kept per file version (inode, modification time and
        size), so a re-rendered clip is checked and read again.
        """
        paths = self._files(trajectory_id)
        if paths is None:
            return None
        video, sidecar = paths
        try:
            sidecar_stat, video_stat = sidecar.stat(), video.stat()
        except OSError:
            return None
        if not stat.S_ISREG(video_stat.st_mode) or not self._is_burned(
                trajectory_id, sidecar, _version(sidecar_stat)):
            return None
        return ClipFile(video, video_stat, self._data(trajectory_id, video, video_stat))

    def video(self, trajectory_id: str) -> Path | None:
        """The trajectory's clip file, when `clip` would serve it."""
        found = self.clip(trajectory_id)
        return None if found is None else found.path

    def _files(self, trajectory_id: str) -> tuple[Path, Path] | None:
        """The clip's video and sidecar paths (None for a name that could leave the folder)."""
        if trajectory_id not in self._paths:
            try:
                video, _, sidecar = clip_files(self.clips_dir, trajectory_id)
            except InputError:
                self._paths[trajectory_id] = None
            else:
                self._paths[trajectory_id] = (video, sidecar)
        return self._paths[trajectory_id]

    def _is_burned(self, trajectory_id: str, sidecar: Path, version: _Version) -> bool:
        cached = self._burned.get(trajectory_id)
        if cached is None or cached[0] != version:
            cached = (version, has_burned_id(sidecar, self._key, trajectory_id))
            self._burned[trajectory_id] = cached
        return cached[1]

    def _data(self, trajectory_id: str, video: Path, found: os.stat_result) -> bytes | None:
        """The video's bytes from memory (read on first use), or None for a large one."""
        version = _version(found)
        with self._bytes_lock:
            cached = self._bytes.get(trajectory_id)
            if cached is not None and cached[0] == version:
                self._bytes.move_to_end(trajectory_id)
                return cached[1]
        if found.st_size > MAX_CACHED_CLIP_BYTES:
            return None
        try:
            data = video.read_bytes()
        except OSError:
            return None
        if len(data) != found.st_size:  # rewritten while read: stream it from disk instead
            return None
        with self._bytes_lock:
            old = self._bytes.pop(trajectory_id, None)
            self._cached_bytes += len(data) - (0 if old is None else len(old[1]))
            self._bytes[trajectory_id] = (version, data)
            while self._cached_bytes > CACHE_BUDGET_BYTES:
                _, (_, dropped) = self._bytes.popitem(last=False)
                self._cached_bytes -= len(dropped)
        return data

    def _reload(self) -> None:
        with self._lock:
            ids = trajectories_frame(self._store)["trajectory_id"].astype(str)
            self._ids = {self.display_id(t): t for t in ids}
            self._loaded_at = time.monotonic()

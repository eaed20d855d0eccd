"""Clip display ids ↔ trajectory ids under the pool's display key, cached per process."""

from __future__ import annotations

import logging
import secrets
import threading
import time
from pathlib import Path

from robopref.errors import InputError
from robopref.render import CLIPS, clip_display_id, has_burned_id, load_display_key
from robopref.render.clip import clip_files
from robopref.store import Store, trajectories_frame

logger = logging.getLogger(__name__)

MIN_RELOAD_S = 2.0
"""An unknown id reloads the index at most this often (new trajectories appear)."""


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
        self._burned: dict[str, tuple[tuple[int, int, int], bool]] = {}

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

    def video(self, trajectory_id: str) -> Path | None:
        """The trajectory's clip file, when it exists and carries its display id burned in.

        The sidecar check (`burned_id` equals the display id) is cached per sidecar
        version (inode, modification time and size), so a re-rendered clip is checked again.
        """
        try:
            video, _, sidecar = clip_files(self.clips_dir, trajectory_id)
            stamp = sidecar.stat()
        except (InputError, OSError):
            return None
        version = (stamp.st_ino, stamp.st_mtime_ns, stamp.st_size)
        cached = self._burned.get(trajectory_id)
        if cached is None or cached[0] != version:
            cached = (version, has_burned_id(sidecar, self._key, trajectory_id))
            self._burned[trajectory_id] = cached
        return video if cached[1] and video.is_file() else None

    def _reload(self) -> None:
        with self._lock:
            ids = trajectories_frame(self._store)["trajectory_id"].astype(str)
            self._ids = {self.display_id(t): t for t in ids}
            self._loaded_at = time.monotonic()

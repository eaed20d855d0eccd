"""Display id → trajectory id for clips, from the store's trajectories, cached per process."""

from __future__ import annotations

import threading
import time

from robopref.store import Store, trajectories_frame
from robopref.web.signing import display_id

CLIP_KIND = "clip"
"""`display_id` kind of clip ids."""
MIN_RELOAD_S = 2.0
"""An unknown id reloads the index at most this often (new trajectories appear)."""


class ClipIndex:
    """Maps opaque clip display ids back to trajectory ids; never the other way to clients."""

    def __init__(self, store: Store, secret: str) -> None:
        """Index the trajectories of `store`, lazily, under `secret`."""
        self._store = store
        self._secret = secret
        self._ids: dict[str, str] = {}
        self._loaded_at = float("-inf")
        self._lock = threading.Lock()

    def display_id(self, trajectory_id: str) -> str:
        """The display id of a trajectory's clip."""
        return display_id(self._secret, CLIP_KIND, trajectory_id)

    def trajectory_id(self, clip_id: str) -> str | None:
        """The trajectory a display id stands for, or None when the store has none such."""
        found = self._ids.get(clip_id)
        if found is None and time.monotonic() - self._loaded_at > MIN_RELOAD_S:
            self._reload()
            found = self._ids.get(clip_id)
        return found

    def _reload(self) -> None:
        with self._lock:
            ids = trajectories_frame(self._store)["trajectory_id"].astype(str)
            self._ids = {self.display_id(t): t for t in ids}
            self._loaded_at = time.monotonic()

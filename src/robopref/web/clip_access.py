"""Who may watch which clip: only clips of pairs and ranking sets handed to the caller.

A display id alone is not a pass: an annotator who learns another's clip URL gets 404.
Answers are remembered per process (a pair, once assigned, stays assigned), so a clip's
range requests after the first cost no query.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from robopref.store import Store
from robopref.store.clip_access import may_watch

MAX_REMEMBERED = 200_000
"""(annotator, trajectory) grants kept in memory, least recently used dropped first."""


class ClipAccess:
    """Grants of clips to annotators, checked against the store and remembered."""

    def __init__(self, store: Store, *, max_remembered: int = MAX_REMEMBERED) -> None:
        """Check grants in `store`; remember at most `max_remembered` of them."""
        self._store = store
        self._max = max_remembered
        self._granted: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._lock = threading.Lock()

    def remembered(self, annotator_id: str, trajectory_id: str) -> bool:
        """True when this process granted the clip before (reads no database)."""
        key = (annotator_id, trajectory_id)
        with self._lock:
            if key in self._granted:
                self._granted.move_to_end(key)
                return True
        return False

    def allowed(self, annotator_id: str, trajectory_id: str) -> bool:
        """True when the trajectory is in a pair or ranking set assigned to the annotator."""
        if self.remembered(annotator_id, trajectory_id):
            return True
        key = (annotator_id, trajectory_id)
        if not may_watch(self._store, annotator_id, trajectory_id):
            return False  # not remembered: a later assignment may grant it
        with self._lock:
            self._granted[key] = None
            while len(self._granted) > self._max:
                self._granted.popitem(last=False)
        return True

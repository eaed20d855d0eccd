"""First showings of pairs that wait to be written with a later commit (`Store.pending_shown`)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime

Showings = dict[tuple[str, str], datetime]
"""When each assignment, as (pair id, annotator id), was first shown."""


@dataclass(eq=False)
class PendingShown:
    """The first showings this process has not written yet, and whether it defers them.

    Kept per annotator, so a submit writes its own annotator's showings only (on
    PostgreSQL, two submits never lock each other's assignment rows). Thread-safe; the
    store's functions (`store.shown`) add, take and put back showings.
    """

    deferred: bool = False
    """Showings wait for a later commit (`store.shown.defer_shown`); else each is written
    at once."""
    by_annotator: dict[str, dict[str, datetime]] = field(default_factory=dict)
    """Annotator id → pair id → when it was first shown."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    flush_scheduled: bool = False
    """A flush of the showings no submit takes is on its way."""

    def add(self, pair_id: str, annotator_id: str, at: datetime) -> tuple[datetime, bool]:
        """Remember a first showing (an earlier one waiting stays).

        Returns:
            The showing's time, and True when the caller must schedule a flush (none is
            on its way yet).
        """
        with self.lock:
            first = self.by_annotator.setdefault(annotator_id, {}).setdefault(pair_id, at)
            schedule, self.flush_scheduled = not self.flush_scheduled, True
        return first, schedule

    def take(self, annotator_id: str) -> Showings:
        """The annotator's waiting showings, now the caller's to write."""
        with self.lock:
            taken = self.by_annotator.pop(annotator_id, {})
        return {(pair_id, annotator_id): at for pair_id, at in taken.items()}

    def take_pair(self, pair_id: str, annotator_id: str) -> Showings:
        """The annotator's waiting showing of one pair (or none), now the caller's to write."""
        with self.lock:
            pairs = self.by_annotator.get(annotator_id)
            at = None if pairs is None else pairs.pop(pair_id, None)
            if pairs is not None and not pairs:
                del self.by_annotator[annotator_id]
        return {} if at is None else {(pair_id, annotator_id): at}

    def take_all(self) -> Showings:
        """Every waiting showing, for the scheduled flush (the next one schedules another)."""
        with self.lock:
            self.flush_scheduled = False
            taken, self.by_annotator = self.by_annotator, {}
        return {(pair_id, annotator_id): at
                for annotator_id, pairs in taken.items() for pair_id, at in pairs.items()}

    def put_back(self, showings: Showings) -> bool:
        """Showings a failed transaction did not write (one taken since stays if earlier).

        Returns:
            True when the caller must schedule a flush (as `add`).
        """
        if not showings:
            return False
        with self.lock:
            for (pair_id, annotator_id), at in showings.items():
                pairs = self.by_annotator.setdefault(annotator_id, {})
                if pair_id not in pairs or at < pairs[pair_id]:
                    pairs[pair_id] = at
            schedule, self.flush_scheduled = not self.flush_scheduled, True
        return schedule

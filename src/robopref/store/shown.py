"""When each pair was first shown to its annotator: written at once, or with the next commit.

By default `record_shown` writes a showing in a transaction of its own. A server that
defers showings (`defer_shown`) keeps them in memory instead and writes them in the
transaction of the annotator's next submit (`write_shown`, before the answer, so the
answer's `shown_at` has it; on PostgreSQL, whose submit is one statement, only the
submitted pair's showing goes with it), or `FLUSH_S` seconds later in one transaction for all of
them when no submit came: one commit, one fsync, per answer instead of two. A crash can lose only
the showings of its last `FLUSH_S` seconds (those pairs read as never shown and get the
time of their next showing), never an answer. When another process stored the answer
first (a submit that reached another worker), writing the showing also fills the
answer's missing `shown_at`.
"""

from __future__ import annotations

import threading
from dataclasses import replace

from sqlalchemy import bindparam, update

from robopref.store.models import Annotation, Assignment, utcnow
from robopref.store.pending import Showings
from robopref.store.prepared import Prepared, RawConnection
from robopref.store.records import QueueItem
from robopref.store.session import Store

FLUSH_S = 1.0
"""Longest a deferred showing waits for a submit's commit before it is written alone."""

_SHOWN = Prepared(
    update(Assignment)
    .where(Assignment.pair_id == bindparam("pair"),
           Assignment.annotator_id == bindparam("annotator"), Assignment.shown_at.is_(None))
    .values(shown_at=bindparam("now"))
)
_ANSWER_SHOWN = Prepared(
    update(Annotation)
    .where(Annotation.pair_id == bindparam("pair"),
           Annotation.annotator_id == bindparam("annotator"), Annotation.shown_at.is_(None))
    .values(shown_at=bindparam("now"))
)


def defer_shown(store: Store) -> None:
    """From now on, `record_shown` leaves showings for the next commit (see the module)."""
    store.pending_shown.deferred = True


def record_shown(store: Store, annotator_id: str, item: QueueItem) -> QueueItem:
    """`item` with its first showing recorded (unchanged when it was shown before).

    The read that found the item is over; the write is one `UPDATE … WHERE shown_at IS
    NULL`, so of two concurrent first showings the first writer's time stays, and the
    write lock is held for one statement only. With `defer_shown` the write waits for
    the annotator's next submit (or `FLUSH_S`).
    """
    if item.shown_at is not None:
        return item
    now = utcnow()
    pending = store.pending_shown
    if not pending.deferred:
        with store.raw_write() as connection:
            _write(connection, {(item.pair_id, annotator_id): now}, answers=False)
        return replace(item, shown_at=now)
    first, schedule = pending.add(item.pair_id, annotator_id, now)  # shown again: first time
    if schedule:
        _schedule_flush(store)
    return replace(item, shown_at=first)


def write_shown(connection: RawConnection, store: Store, annotator_id: str) -> Showings:
    """Write the annotator's waiting showings in the caller's transaction; returns them.

    For a submit, before its answer: the answer reads its `shown_at` from the assignment
    (`fill_answers_shown` then serves a retry whose answer another worker stored). Hand
    them to `put_back_shown` when that transaction fails.
    """
    showings = store.pending_shown.take(annotator_id)
    _write(connection, showings, answers=False)
    return showings


def fill_answers_shown(connection: RawConnection, showings: Showings) -> None:
    """Give answers stored without a `shown_at` (by another worker) the showings' times."""
    for (pair_id, annotator_id), at in showings.items():
        _ANSWER_SHOWN.rowcount(connection, {"pair": pair_id, "annotator": annotator_id,
                                            "now": at})


def put_back_shown(store: Store, showings: Showings) -> None:
    """Showings a rolled-back transaction took: they wait for the next commit again."""
    if store.pending_shown.put_back(showings):
        _schedule_flush(store)


def flush_shown(store: Store) -> None:
    """Write every waiting showing in one transaction (`FLUSH_S` after the first; at stop)."""
    showings = store.pending_shown.take_all()
    if not showings:
        return
    try:
        with store.raw_write() as connection:
            _write(connection, showings, answers=True)
    except BaseException:
        put_back_shown(store, showings)
        raise


def _schedule_flush(store: Store) -> None:
    timer = threading.Timer(FLUSH_S, flush_shown, (store,))
    timer.daemon = True
    timer.start()


def _write(connection: RawConnection, showings: Showings, *, answers: bool) -> None:
    for (pair_id, annotator_id), at in showings.items():
        _SHOWN.rowcount(connection, {"pair": pair_id, "annotator": annotator_id, "now": at})
    if answers:
        fill_answers_shown(connection, showings)

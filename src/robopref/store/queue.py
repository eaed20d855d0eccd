"""An annotator's pair queue: the next pair to show, and the few after it (for prefetch).

The queue is read in a read transaction; showing a pair is a separate one-statement write.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import BindParameter, Row, Select, bindparam, func, select, update
from sqlalchemy.orm import aliased

from robopref.errors import InputError
from robopref.store.models import Assignment, Batch, BatchStatus, Pair, TrajectoryRow, utcnow
from robopref.store.prepared import Prepared
from robopref.store.queries import as_utc
from robopref.store.records import QueueItem
from robopref.store.session import Store
from robopref.store.text import check_ids, shown
from robopref.types import BatchKind

MAX_UPCOMING = 10
"""Most queue items `upcoming_assignments` returns."""


def batch_kinds(kinds: Collection[BatchKind | str] | None, *, where: str) -> list[str] | None:
    """`kinds` as `BatchKind` values (None: every kind).

    Raises:
        InputError: A kind that is not a `BatchKind`, naming the field `kinds`.
    """
    if kinds is None:
        return None
    try:
        return sorted({BatchKind(k).value for k in kinds})
    except ValueError:
        allowed = ", ".join(k.value for k in BatchKind)
        raise InputError(where, "kinds", f"{sorted(map(str, kinds))} not all among {allowed}") \
            from None


OpenWork = Select[str, str, str, datetime | None, bool, datetime, int]
"""`open_work`: the open assignments of a queue, with their batch's rubric and sort keys."""
QueueQuery = Select[str, str, str, datetime | None, bool, str, str, str, str | None, str | None]
"""`window`: a queue's entries with their pair and the clips of A and B."""
QueueRow = Row[str, str, str, datetime | None, bool, str, str, str, str | None, str | None]
"""One row of a `QueueQuery`."""
_CLIP_A, _CLIP_B = aliased(TrajectoryRow), aliased(TrajectoryRow)


def open_work(
    annotator_id: str | BindParameter[str],
    *,
    batch_id: str | None = None,
    kinds: list[str] | BindParameter[list[str]] | None = None,
) -> OpenWork:
    """The annotator's unanswered, unskipped assignments in open batches (unordered).

    `annotator_id` and `kinds` may be bound parameters, for a statement built once.
    """
    query = (
        select(Assignment.pair_id, Assignment.batch_id, Assignment.left_trajectory_id,
               Assignment.shown_at, Batch.rubric, Batch.created_at, Assignment.position)
        .join(Batch, Batch.batch_id == Assignment.batch_id)
        .where(Assignment.annotator_id == annotator_id, Assignment.completed.is_(False),
               Assignment.skipped.is_(False), Batch.status == BatchStatus.OPEN.value)
    )
    if batch_id is not None:
        query = query.where(Assignment.batch_id == batch_id)
    if kinds is not None:
        query = query.where(Batch.kind.in_(kinds))
    return query


def window(work: OpenWork, *, offset: int | BindParameter[int],
           limit: int | BindParameter[int]) -> QueueQuery:
    """`limit` entries of the queue `work` from position `offset`, with pairs and clips.

    Batches oldest first, pairs in their assigned order. The window is cut before the
    pairs and clips are joined, so a long queue costs one index walk, not a join per entry.
    """
    cut = (work.order_by(Batch.created_at, Batch.batch_id, Assignment.position)
           .offset(offset).limit(limit).subquery())
    return (
        select(cut.c.pair_id, cut.c.batch_id, cut.c.left_trajectory_id, cut.c.shown_at,
               cut.c.rubric, Pair.task, Pair.trajectory_a_id, Pair.trajectory_b_id,
               _CLIP_A.clip_path.label("clip_a"), _CLIP_B.clip_path.label("clip_b"))
        .join(Pair, Pair.pair_id == cut.c.pair_id)
        .outerjoin(_CLIP_A, _CLIP_A.trajectory_id == Pair.trajectory_a_id)
        .outerjoin(_CLIP_B, _CLIP_B.trajectory_id == Pair.trajectory_b_id)
        .order_by(cut.c.created_at, cut.c.batch_id, cut.c.position)
    )


_SHOWN = Prepared(
    update(Assignment)
    .where(Assignment.pair_id == bindparam("pair"),
           Assignment.annotator_id == bindparam("annotator"), Assignment.shown_at.is_(None))
    .values(shown_at=bindparam("now"))
)


def queue_items(rows: Sequence[QueueRow], *, offset: int, remaining: int) -> list[QueueItem]:
    """Queue items of `window` rows that start at queue position `offset`.

    `remaining` is the size of the whole queue; item n's `remaining` counts it and the
    items after it.
    """
    items = []
    for n, row in enumerate(rows):
        a_left = row.left_trajectory_id == row.trajectory_a_id
        right = row.trajectory_b_id if a_left else row.trajectory_a_id
        items.append(QueueItem(
            pair_id=row.pair_id, batch_id=row.batch_id, task=row.task,
            left_trajectory_id=row.left_trajectory_id, right_trajectory_id=right,
            left_clip_path=row.clip_a if a_left else row.clip_b,
            right_clip_path=row.clip_b if a_left else row.clip_a,
            shown_at=as_utc(row.shown_at), remaining=remaining - offset - n,
            rubric=bool(row.rubric),
        ))
    return items


def _window(store: Store, work: OpenWork, *, offset: int, limit: int) -> list[QueueItem]:
    """`limit` items of the queue `work` from position `offset`, in one read transaction."""
    with store.read_rows() as connection:
        rows = connection.execute(window(work, offset=offset, limit=limit)).all()
        if not rows:
            return []
        size = connection.scalar(select(func.count()).select_from(work.subquery())) or 0
    return queue_items(rows, offset=offset, remaining=int(size))


def record_shown(store: Store, annotator_id: str, item: QueueItem) -> QueueItem:
    """`item` with its first showing recorded (unchanged when it was shown before).

    The read that found the item is over; the write is one `UPDATE … WHERE shown_at IS
    NULL`, so of two concurrent first showings the first writer's time stays, and the
    write lock is held for one statement only.
    """
    if item.shown_at is not None:
        return item
    now = utcnow()
    with store.raw_write() as connection:
        _SHOWN.rowcount(connection, {"pair": item.pair_id, "annotator": annotator_id, "now": now})
    return replace(item, shown_at=now)


def next_assignment(
    store: Store,
    annotator_id: str,
    *,
    batch_id: str | None = None,
    kinds: Collection[BatchKind | str] | None = None,
    mark_shown: bool = True,
) -> QueueItem | None:
    """The annotator's next unanswered, unskipped pair in an open batch, or None when done.

    Batches are served oldest first, pairs in their assigned order. With `mark_shown` the
    first call for a pair records `shown_at`.

    Args:
        store: The store.
        annotator_id: Whose queue.
        batch_id: Serve this batch only.
        kinds: Serve batches of these kinds only (e.g. calibration for an annotator not
            yet certified); None serves every kind.
        mark_shown: Record when the pair was first shown.

    Raises:
        InputError: An id that the store could not hold (checked as `store.text` does), or
            an unknown batch kind.
    """
    where = f"queue of {shown(annotator_id)}"
    check_ids(where, annotator_id=annotator_id, batch_id=batch_id)
    work = open_work(annotator_id, batch_id=batch_id, kinds=batch_kinds(kinds, where=where))
    found = _window(store, work, offset=0, limit=1)
    if not found:
        return None
    return record_shown(store, annotator_id, found[0]) if mark_shown else found[0]


def check_upcoming(where: str, k: int) -> None:
    """Refuse a prefetch count outside 0…`MAX_UPCOMING`.

    Raises:
        InputError: `k` is not an integer in range, naming the field `k`.
    """
    if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k <= MAX_UPCOMING:
        raise InputError(where, "k", f"must be an integer in 0…{MAX_UPCOMING}, got {k!r}")


def upcoming_assignments(
    store: Store,
    annotator_id: str,
    *,
    k: int = 2,
    kinds: Collection[BatchKind | str] | None = None,
) -> list[QueueItem]:
    """The `k` pairs after the next one (`next_assignment`'s), in queue order; none is marked shown.

    For prefetching clips: the page loads them while the annotator judges the current pair.

    Raises:
        InputError: An id the store could not hold, an unknown kind, or `k` outside
            0…`MAX_UPCOMING`.
    """
    where = f"queue of {shown(annotator_id)}"
    check_ids(where, annotator_id=annotator_id)
    check_upcoming(where, k)
    work = open_work(annotator_id, kinds=batch_kinds(kinds, where=where))
    return _window(store, work, offset=1, limit=k)

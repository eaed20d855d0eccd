"""An annotator's pair queue: the next pair to show, and the few after it (for prefetch).

Batches are served oldest first, pairs in their assigned order. The queue is read in a
read transaction from the annotator's assignment counts and the entries wanted only
(`read_queue`); showing a pair is a separate one-statement write.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any, NamedTuple

from sqlalchemy import BindParameter, bindparam, false, select
from sqlalchemy.orm import aliased

from robopref.errors import InputError
from robopref.store.models import (
    Assignment,
    AssignmentCount,
    Batch,
    BatchStatus,
    Pair,
    TrajectoryRow,
)
from robopref.store.prepared import Prepared, RawConnection
from robopref.store.queries import as_utc
from robopref.store.records import QueueItem
from robopref.store.session import Store
from robopref.store.shown import record_shown
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


_ANNOTATOR: BindParameter[str] = bindparam("annotator_id")
_KINDS: BindParameter[list[str]] = bindparam("kinds", expanding=True)
_CLIP_A, _CLIP_B = aliased(TrajectoryRow), aliased(TrajectoryRow)
ALL_KINDS = sorted(k.value for k in BatchKind)
"""Every batch kind, for a queue of all kinds."""

COUNTS = Prepared(
    select(AssignmentCount.batch_id, AssignmentCount.assigned, AssignmentCount.done,
           Batch.rubric, Batch.kind)
    .join(Batch, Batch.batch_id == AssignmentCount.batch_id)
    .where(AssignmentCount.annotator_id == _ANNOTATOR, Batch.status == BatchStatus.OPEN.value,
           Batch.kind.in_(_KINDS))
    .order_by(Batch.created_at, Batch.batch_id)
)
"""The annotator's open batches of some kinds in queue order (oldest first), with their
counts (`store.counts`): parameters `annotator_id`, `kinds`."""
_ENTRIES = Prepared(
    select(Assignment.pair_id, Assignment.left_trajectory_id, Assignment.shown_at, Pair.task,
           Pair.trajectory_a_id, Pair.trajectory_b_id, _CLIP_A.clip_path.label("clip_a"),
           _CLIP_B.clip_path.label("clip_b"))
    .join(Pair, Pair.pair_id == Assignment.pair_id)
    .outerjoin(_CLIP_A, _CLIP_A.trajectory_id == Pair.trajectory_a_id)
    .outerjoin(_CLIP_B, _CLIP_B.trajectory_id == Pair.trajectory_b_id)
    # `= false`, not `IS false`: PostgreSQL matches only `=` against an index column
    .where(Assignment.annotator_id == _ANNOTATOR, Assignment.batch_id == bindparam("batch_id"),
           Assignment.completed == false(), Assignment.skipped == false())
    .order_by(Assignment.position)
    .offset(bindparam("offset")).limit(bindparam("limit"))
)
"""Open entries of one batch's queue in order, with their pair and clips: a range of
`ix_assignments_queue`, read LIMIT-first."""


class BatchCount(NamedTuple):
    """One row of `COUNTS`."""

    batch_id: str
    assigned: int
    done: int
    rubric: bool
    kind: str


EntryRows = Callable[[BatchCount, int, int], Sequence[Any]]
"""Open entries of one batch's queue: (its count, from position, at most) → rows with the
columns of `_ENTRIES`."""


def read_queue(connection: RawConnection, annotator_id: str, counts: Sequence[BatchCount], *,
               offset: int, limit: int) -> list[QueueItem]:
    """`limit` entries of the queue over `counts` (in order) from queue position `offset`.

    The counts say which batches hold the entries wanted, so only those are read, each
    from its position: the cost does not grow with the assignments the annotator holds.
    """
    def entries(count: BatchCount, start: int, most: int) -> list[Any]:
        return _ENTRIES.rows(connection, {"annotator_id": annotator_id,
                                          "batch_id": count.batch_id, "offset": start,
                                          "limit": most})

    return assemble_queue(counts, entries, offset=offset, limit=limit)


def assemble_queue(counts: Sequence[BatchCount], entries: EntryRows, *, offset: int,
                   limit: int) -> list[QueueItem]:
    """`limit` queue items from position `offset`, each batch's entries from `entries`.

    Asks only for the batches that hold the entries wanted (`read_queue`'s reads, or rows
    one statement already returned).
    """
    remaining = sum(c.assigned - c.done for c in counts)
    items: list[QueueItem] = []
    before = 0  # open entries in the batches already passed
    for count in counts:
        open_here = count.assigned - count.done
        if len(items) >= limit:
            break
        if offset - before >= open_here:
            before += open_here
            continue
        start = max(0, offset - before)
        rows = entries(count, start, limit - len(items))
        items += [_item(row, count, remaining=remaining - before - start - n)
                  for n, row in enumerate(rows)]
        before += open_here
    return items


def _item(row: Any, count: BatchCount, *, remaining: int) -> QueueItem:
    a_left = row.left_trajectory_id == row.trajectory_a_id
    return QueueItem(
        pair_id=row.pair_id, batch_id=count.batch_id, task=row.task,
        left_trajectory_id=row.left_trajectory_id,
        right_trajectory_id=row.trajectory_b_id if a_left else row.trajectory_a_id,
        left_clip_path=row.clip_a if a_left else row.clip_b,
        right_clip_path=row.clip_b if a_left else row.clip_a,
        shown_at=as_utc(row.shown_at), remaining=remaining, rubric=bool(count.rubric),
        trajectory_a_id=row.trajectory_a_id, batch_kind=BatchKind(count.kind),
    )


def batch_counts(connection: RawConnection, annotator_id: str,
                 kinds: list[str] | None) -> list[BatchCount]:
    """`COUNTS` for the annotator's open batches of `kinds` (None: every kind)."""
    rows = COUNTS.rows(connection, {"annotator_id": annotator_id,
                                    "kinds": ALL_KINDS if kinds is None else kinds})
    return [BatchCount(str(r.batch_id), int(r.assigned), int(r.done), bool(r.rubric),
                       str(r.kind)) for r in rows]


def _queue(store: Store, annotator_id: str, kinds: list[str] | None, *, batch_id: str | None,
           offset: int, limit: int) -> list[QueueItem]:
    """`limit` items of the annotator's queue from position `offset`, in one read transaction."""
    with store.raw_read() as connection:
        counts = batch_counts(connection, annotator_id, kinds)
        if batch_id is not None:
            counts = [c for c in counts if c.batch_id == batch_id]
        return read_queue(connection, annotator_id, counts, offset=offset, limit=limit)


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
    found = _queue(store, annotator_id, batch_kinds(kinds, where=where), batch_id=batch_id,
                   offset=0, limit=1)
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
    return _queue(store, annotator_id, batch_kinds(kinds, where=where), batch_id=None,
                  offset=1, limit=k)

"""An annotator's pair queue: the next pair to show, and the few after it (for prefetch)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from robopref.errors import InputError
from robopref.store.models import Assignment, Batch, BatchStatus, Pair, TrajectoryRow, utcnow
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


def open_work(
    annotator_id: str, *, batch_id: str | None = None, kinds: list[str] | None = None
) -> Select[Assignment]:
    """The annotator's unanswered, unskipped assignments in open batches (unordered)."""
    query = (
        select(Assignment)
        .join(Batch, Batch.batch_id == Assignment.batch_id)
        .where(Assignment.annotator_id == annotator_id, Assignment.completed.is_(False),
               Assignment.skipped.is_(False), Batch.status == BatchStatus.OPEN.value)
    )
    if batch_id is not None:
        query = query.where(Assignment.batch_id == batch_id)
    if kinds is not None:
        query = query.where(Batch.kind.in_(kinds))
    return query


def _in_order(query: Select[Any]) -> Select[Any]:
    """Batches oldest first, pairs in their assigned order."""
    return query.order_by(Batch.created_at, Batch.batch_id, Assignment.position)


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
    session_scope = store.write() if mark_shown else store.read()
    with session_scope as session:
        assignment = session.scalars(_in_order(work).limit(1)).first()
        if assignment is None:
            return None
        remaining = session.scalar(select(func.count()).select_from(work.subquery())) or 0
        if mark_shown and assignment.shown_at is None:
            assignment.shown_at = utcnow()
        return _queue_item(session, assignment, remaining=int(remaining))


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
    if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k <= MAX_UPCOMING:
        raise InputError(where, "k", f"must be an integer in 0…{MAX_UPCOMING}, got {k!r}")
    work = open_work(annotator_id, kinds=batch_kinds(kinds, where=where))
    with store.read() as session:
        following = session.scalars(_in_order(work).offset(1).limit(k)).all()
        total = 0
        if following:
            total = int(session.scalar(select(func.count()).select_from(work.subquery())) or 0)
        return [_queue_item(session, a, remaining=total - 1 - n)
                for n, a in enumerate(following)]


def _queue_item(session: Session, assignment: Assignment, *, remaining: int) -> QueueItem:
    pair = session.get_one(Pair, assignment.pair_id)
    right = (pair.trajectory_b_id if assignment.left_trajectory_id == pair.trajectory_a_id
             else pair.trajectory_a_id)
    clips = dict(session.execute(
        select(TrajectoryRow.trajectory_id, TrajectoryRow.clip_path).where(
            TrajectoryRow.trajectory_id.in_([assignment.left_trajectory_id, right]))
    ).all())
    return QueueItem(
        pair_id=pair.pair_id, batch_id=assignment.batch_id, task=pair.task,
        left_trajectory_id=assignment.left_trajectory_id, right_trajectory_id=right,
        left_clip_path=clips.get(assignment.left_trajectory_id),
        right_clip_path=clips.get(right), shown_at=as_utc(assignment.shown_at),
        remaining=remaining, rubric=bool(session.get_one(Batch, assignment.batch_id).rubric),
    )

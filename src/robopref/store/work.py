"""Everything GET /api/next needs about one annotator, read in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from sqlalchemy import case, func, select

from robopref.store.models import Annotator, Assignment, Batch, BatchStatus, CertificationAttempt
from robopref.store.queue import batch_kinds, check_upcoming, open_work, queue_items, record_shown
from robopref.store.ranking_queue import open_sets_count
from robopref.store.records import Progress, QueueItem
from robopref.store.session import Store
from robopref.store.text import check_ids, shown
from robopref.types import BatchKind


@dataclass(frozen=True, kw_only=True)
class WorkSnapshot:
    """An annotator's state and queue as one read transaction saw them."""

    certified: bool
    """Their latest calibration attempt passed."""
    queue: tuple[QueueItem, ...]
    """The next pair (marked shown) and up to `upcoming` pairs after it, in queue order."""
    progress_by_batch: dict[str, Progress]
    """Done / assigned pairs per open batch of the kinds served, for progress counts."""
    rankings_waiting: int
    """Ranking sets assigned and not ranked, in open batches."""
    scored_batch_ids: tuple[str, ...]
    """Calibration batches of their recorded attempts, oldest first."""


def annotator_work(
    store: Store,
    annotator_id: str,
    *,
    kinds_for: Callable[[bool], Collection[BatchKind | str]],
    upcoming: int = 2,
) -> WorkSnapshot:
    """The annotator's state and queue in one read transaction, then the first pair shown.

    Seven statements: certified, the queue rows (next + upcoming, one LIMIT query), their
    clips, the scored calibration batches, the ranking sets waiting, and progress per
    batch; the queue's `remaining` comes from the progress counts. Marking the first pair
    shown is a separate one-statement write (`record_shown`).

    Args:
        store: The store.
        annotator_id: Whose work.
        kinds_for: Batch kinds served, given whether the annotator is certified.
        upcoming: Pairs after the next one to return (0…`MAX_UPCOMING`).

    Raises:
        InputError: An id the store could not hold, an unknown kind, or `upcoming` out of
            range.
    """
    where = f"work of {shown(annotator_id)}"
    check_ids(where, annotator_id=annotator_id)
    check_upcoming(where, upcoming)
    with store.read() as session:
        certified = bool(session.scalar(
            select(Annotator.certified).where(Annotator.annotator_id == annotator_id)))
        kinds = batch_kinds(kinds_for(certified), where=where)
        finished = case((Assignment.completed.is_(True) | Assignment.skipped.is_(True), 1),
                        else_=0)
        counts = (
            select(Assignment.batch_id, func.count(), func.coalesce(func.sum(finished), 0))
            .join(Batch, Batch.batch_id == Assignment.batch_id)
            .where(Assignment.annotator_id == annotator_id,
                   Batch.status == BatchStatus.OPEN.value)
            .group_by(Assignment.batch_id)
        )
        if kinds is not None:
            counts = counts.where(Batch.kind.in_(kinds))
        progress = {str(batch): Progress(done=int(done), assigned=int(assigned))
                    for batch, assigned, done in session.execute(counts)}
        left = sum(p.assigned - p.done for p in progress.values())
        queue = queue_items(session, open_work(annotator_id, kinds=kinds), offset=0,
                            limit=1 + upcoming, remaining=left)
        scored = tuple(session.scalars(
            select(CertificationAttempt.calibration_batch_id)
            .where(CertificationAttempt.annotator_id == annotator_id)
            .order_by(CertificationAttempt.attempt_id)))
        rankings = open_sets_count(session, annotator_id)
    if queue:
        queue = [record_shown(store, annotator_id, queue[0]), *queue[1:]]
    return WorkSnapshot(certified=certified, queue=tuple(queue), progress_by_batch=progress,
                        rankings_waiting=rankings, scored_batch_ids=scored)

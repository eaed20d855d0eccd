"""Everything GET /api/next needs about one annotator, read in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

from sqlalchemy import BindParameter, bindparam, select

from robopref.store.models import Annotator, CertificationAttempt
from robopref.store.pg_work import Entry, read_work
from robopref.store.prepared import Prepared
from robopref.store.queue import (
    ALL_KINDS,
    BatchCount,
    assemble_queue,
    batch_counts,
    batch_kinds,
    check_upcoming,
    read_queue,
)
from robopref.store.ranking_queue import open_sets_count_query
from robopref.store.records import Progress, QueueItem
from robopref.store.session import Store
from robopref.store.shown import record_shown
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


_ANNOTATOR: BindParameter[str] = bindparam("annotator_id")
_CERTIFIED = Prepared(select(Annotator.certified).where(Annotator.annotator_id == _ANNOTATOR))
_SCORED = Prepared(select(CertificationAttempt.calibration_batch_id)
                   .where(CertificationAttempt.annotator_id == _ANNOTATOR)
                   .order_by(CertificationAttempt.attempt_id))
_RANKINGS = Prepared(open_sets_count_query(_ANNOTATOR))
"""Prepared once, run on the driver's cursor: GET /api/next runs them for every request."""


def annotator_work(
    store: Store,
    annotator_id: str,
    *,
    kinds_for: Callable[[bool], Collection[BatchKind | str]],
    upcoming: int = 2,
) -> WorkSnapshot:
    """The annotator's state and queue in one read transaction, then the first pair shown.

    On SQLite five prepared statements (`store.prepared`): certified, the counts per open batch
    (`store.counts`: progress and where the queue's entries are), the queue rows with
    their clips (next + upcoming, one LIMIT query per batch they span, usually one), the
    scored calibration batches and the ranking sets waiting; on PostgreSQL the same in
    one statement (`store.pg_work`: one round trip). None walks the annotator's
    assignments. Marking the first pair shown is a separate one-statement write
    (`record_shown`).

    Args:
        store: The store.
        annotator_id: Whose work.
        kinds_for: Batch kinds served, given whether the annotator is certified (on
            PostgreSQL asked for both answers, the statement picks one).
        upcoming: Pairs after the next one to return (0…`MAX_UPCOMING`).

    Raises:
        InputError: An id the store could not hold, an unknown kind, or `upcoming` out of
            range.
    """
    where = f"work of {shown(annotator_id)}"
    check_ids(where, annotator_id=annotator_id)
    check_upcoming(where, upcoming)
    if store.is_sqlite:
        with store.raw_read() as connection:
            params = {"annotator_id": annotator_id}
            certified = bool(_CERTIFIED.scalar(connection, params))
            counts = batch_counts(connection, annotator_id,
                                  batch_kinds(kinds_for(certified), where=where))
            queue = read_queue(connection, annotator_id, counts, offset=0, limit=1 + upcoming)
            scored = tuple(_SCORED.scalars(connection, params))
            rankings = int(_RANKINGS.scalar(connection, params) or 0)
    else:
        certified, counts, queue, scored, rankings = _work_postgres(
            store, annotator_id, kinds_for, where=where, limit=1 + upcoming)
    progress = {c.batch_id: Progress(done=c.done, assigned=c.assigned) for c in counts}
    if queue:
        queue = [record_shown(store, annotator_id, queue[0]), *queue[1:]]
    return WorkSnapshot(certified=certified, queue=tuple(queue), progress_by_batch=progress,
                        rankings_waiting=rankings, scored_batch_ids=scored)


def _work_postgres(
    store: Store, annotator_id: str, kinds_for: Callable[[bool], Collection[BatchKind | str]],
    *, where: str, limit: int,
) -> tuple[bool, list[BatchCount], list[QueueItem], tuple[str, ...], int]:
    """`annotator_work`'s reads on PostgreSQL: one statement (`store.pg_work`)."""
    kinds = {certified: batch_kinds(kinds_for(certified), where=where) or ALL_KINDS
             for certified in (True, False)}
    with store.raw_read(snapshot=False) as connection:
        found = read_work(connection, annotator_id, kinds_certified=kinds[True],
                          kinds_uncertified=kinds[False], limit=limit)

    def entries(count: BatchCount, start: int, most: int) -> list[Entry]:
        return found.entries[count.batch_id][start:start + most]

    queue = assemble_queue(found.counts, entries, offset=0, limit=limit)
    return (found.certified, found.counts, queue, found.scored_batch_ids,
            found.rankings_waiting)

"""How far an annotator is: done / assigned per batch kind, and which batches they hold."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import bindparam, case, func, select

from robopref.store.models import Assignment, Batch, BatchStatus, Pair
from robopref.store.queue import batch_kinds
from robopref.store.records import Progress
from robopref.store.session import Store
from robopref.store.text import check_ids, shown
from robopref.types import BatchKind

_FINISHED = case((Assignment.completed.is_(True) | Assignment.skipped.is_(True), 1), else_=0)
PROGRESS_BY_BATCH = (
    select(Assignment.batch_id, func.count(), func.coalesce(func.sum(_FINISHED), 0))
    .join(Batch, Batch.batch_id == Assignment.batch_id)
    .where(Assignment.annotator_id == bindparam("annotator_id"),
           Batch.status == BatchStatus.OPEN.value,
           Batch.kind.in_(bindparam("kinds", expanding=True)))
    .group_by(Assignment.batch_id)
)
"""Per open batch of the given kinds: (batch id, assigned, done: answered or skipped)."""


def assignment_progress(
    store: Store,
    annotator_id: str,
    *,
    kinds: Collection[BatchKind | str] | None = None,
    excluding: Collection[str] = (),
) -> Progress:
    """Done (answered or skipped) and assigned pairs of the annotator in open batches.

    Args:
        store: The store.
        annotator_id: Whose assignments.
        kinds: Count batches of these kinds only (None: every kind).
        excluding: Batch ids left out (e.g. calibration sets already scored).

    Raises:
        InputError: An id the store could not hold or an unknown kind.
    """
    where = f"progress of {shown(annotator_id)}"
    check_ids(where, annotator_id=annotator_id)
    wanted = batch_kinds(kinds, where=where)
    params = {"annotator_id": annotator_id,
              "kinds": [k.value for k in BatchKind] if wanted is None else wanted}
    with store.read_rows() as connection:
        rows = connection.execute(PROGRESS_BY_BATCH, params).all()
    kept = [(int(assigned), int(done)) for batch, assigned, done in rows if batch not in excluding]
    return Progress(done=sum(d for _, d in kept), assigned=sum(a for a, _ in kept))


def pair_batch(store: Store, pair_id: str) -> tuple[str, BatchKind] | None:
    """The batch id and kind of a pair, or None when there is no such pair.

    Raises:
        InputError: An id the store could not hold.
    """
    check_ids(f"pair {shown(pair_id)}", pair_id=pair_id)
    query = (select(Pair.batch_id, Batch.kind).join(Batch, Batch.batch_id == Pair.batch_id)
             .where(Pair.pair_id == pair_id))
    with store.read() as session:
        row = session.execute(query).first()
    return None if row is None else (str(row[0]), BatchKind(row[1]))


def is_batch_finished(store: Store, annotator_id: str, batch_id: str) -> bool:
    """True when the annotator holds assignments in the batch and none is left open.

    Raises:
        InputError: An id the store could not hold.
    """
    check_ids(f"batch of {shown(annotator_id)}", annotator_id=annotator_id, batch_id=batch_id)
    open_left = case((Assignment.completed.is_(False) & Assignment.skipped.is_(False), 1),
                     else_=0)
    query = select(func.count(), func.coalesce(func.sum(open_left), 0)).where(
        Assignment.annotator_id == annotator_id, Assignment.batch_id == batch_id)
    with store.read() as session:
        held, left = session.execute(query).one()
    return int(held) > 0 and int(left) == 0


def annotator_batch_ids(
    store: Store, annotator_id: str, *, kinds: Collection[BatchKind | str] | None = None
) -> list[str]:
    """Batches in which the annotator holds pair assignments, oldest first (open or closed).

    Raises:
        InputError: An id the store could not hold or an unknown kind.
    """
    where = f"batches of {shown(annotator_id)}"
    check_ids(where, annotator_id=annotator_id)
    query = (
        select(Batch.batch_id)
        .where(Batch.batch_id.in_(select(Assignment.batch_id).where(
            Assignment.annotator_id == annotator_id)))
        .order_by(Batch.created_at, Batch.batch_id)
    )
    wanted = batch_kinds(kinds, where=where)
    if wanted is not None:
        query = query.where(Batch.kind.in_(wanted))
    with store.read() as session:
        return list(session.scalars(query))

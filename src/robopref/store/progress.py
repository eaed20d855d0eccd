"""How far an annotator is: done / assigned per batch kind, and which batches they hold."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import bindparam, select

from robopref.store.models import Assignment, AssignmentCount, Batch, Pair
from robopref.store.prepared import Prepared
from robopref.store.queue import batch_counts, batch_kinds
from robopref.store.records import Progress
from robopref.store.session import Store
from robopref.store.text import check_ids, shown
from robopref.types import BatchKind


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
    with store.raw_read(snapshot=False) as connection:
        counts = batch_counts(connection, annotator_id, wanted)
    kept = [c for c in counts if c.batch_id not in excluding]
    return Progress(done=sum(c.done for c in kept), assigned=sum(c.assigned for c in kept))


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
    with store.raw_read(snapshot=False) as connection:
        found = _COUNT.first(connection, {"annotator_id": annotator_id, "batch_id": batch_id})
    return found is not None and 0 < found.assigned <= found.done


_COUNT = Prepared(select(AssignmentCount.assigned, AssignmentCount.done).where(
    AssignmentCount.annotator_id == bindparam("annotator_id"),
    AssignmentCount.batch_id == bindparam("batch_id")))
"""Prepared once: one annotator's counts in one batch (`store.counts`)."""


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

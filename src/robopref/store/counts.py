"""Assignment counts per (annotator, batch), written in the transaction that changes them.

`assignment_counts` holds how many pairs of a batch an annotator holds and how many they
finished (answered or skipped), so progress and queue positions are read from a few rows
instead of every assignment. The store's writers keep it: `count_assigned` when
assignments are inserted, `count_done` when one leaves the queue.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from sqlalchemy import bindparam, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from robopref.store.models import AssignmentCount
from robopref.store.prepared import Prepared, RawConnection

_DONE = Prepared(
    update(AssignmentCount)
    .where(AssignmentCount.annotator_id == bindparam("annotator"),
           AssignmentCount.batch_id == bindparam("batch"))
    .values(done=AssignmentCount.done + 1)
)


def count_assigned(session: Session, batch_id: str, annotator_ids: Iterable[str]) -> None:
    """Add one assigned pair per entry of `annotator_ids` (one per inserted assignment).

    An upsert (`INSERT … ON CONFLICT DO UPDATE`, on SQLite and PostgreSQL alike), so a
    batch that gains annotators or pairs later adds to the counts it has.
    """
    per_annotator = Counter(annotator_ids)
    if not per_annotator:
        return
    dialect = session.get_bind().dialect.name
    insert = sqlite.insert if dialect == "sqlite" else postgresql.insert
    statement = insert(AssignmentCount).values([
        {"annotator_id": a, "batch_id": batch_id, "assigned": n, "done": 0}
        for a, n in sorted(per_annotator.items())
    ])
    session.execute(statement.on_conflict_do_update(
        index_elements=[AssignmentCount.annotator_id, AssignmentCount.batch_id],
        set_={"assigned": AssignmentCount.assigned + statement.excluded.assigned},
    ))


def count_done(connection: RawConnection, annotator_id: str, batch_id: str) -> None:
    """One more finished pair (the caller changed an open assignment to answered or skipped)."""
    _DONE.rowcount(connection, {"annotator": annotator_id, "batch": batch_id})


def count_done_in(session: Session, annotator_id: str, batch_id: str) -> None:
    """`count_done` inside an ORM session's transaction."""
    session.connection().execute(_DONE.statement, {"annotator": annotator_id, "batch": batch_id})

"""What the web app reads about one annotator: their assignments and their current login."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select

from robopref.store.models import Annotator, Assignment, Batch, Pair
from robopref.store.prepared import Prepared
from robopref.store.session import Store
from robopref.store.text import check_ids, shown
from robopref.types import BatchKind


@dataclass(frozen=True, kw_only=True)
class AssignedPair:
    """One pair assigned to an annotator, with the sides it is shown on."""

    pair_id: str
    """The pair."""
    trajectory_a_id: str
    """The pair's A."""
    trajectory_b_id: str
    """The pair's B."""
    left_trajectory_id: str
    """Shown on the left (presentation order)."""
    completed: bool
    """Answered already."""
    batch_id: str
    """The batch the pair belongs to."""
    batch_kind: BatchKind
    """That batch's kind (a submit scores a calibration set it finishes)."""

    @property
    def right_trajectory_id(self) -> str:
        """Shown on the right."""
        a, b = self.trajectory_a_id, self.trajectory_b_id
        return b if self.left_trajectory_id == a else a


_COLUMNS = (Assignment.pair_id, Assignment.left_trajectory_id, Assignment.completed,
            Pair.trajectory_a_id, Pair.trajectory_b_id, Batch.batch_id, Batch.kind)


def _assigned(row: tuple[str, str, bool, str, str, str, str]) -> AssignedPair:
    pair_id, left, completed, a, b, batch_id, kind = row
    return AssignedPair(pair_id=pair_id, trajectory_a_id=a, trajectory_b_id=b,
                        left_trajectory_id=left, completed=bool(completed), batch_id=batch_id,
                        batch_kind=BatchKind(kind))


_ONE_ASSIGNED = Prepared(
    select(*_COLUMNS).join(Pair, Pair.pair_id == Assignment.pair_id)
    .join(Batch, Batch.batch_id == Pair.batch_id)
    .where(Assignment.pair_id == bindparam("pair_id"),
           Assignment.annotator_id == bindparam("annotator_id"))
)
"""Prepared once: the ownership check runs on every submit."""


def assigned_pair(store: Store, pair_id: str, annotator_id: str) -> AssignedPair | None:
    """The pair `pair_id` if it is assigned to `annotator_id`, else None.

    One read by primary key (assignment, pair and its batch), a prepared statement outside
    a transaction; the web app's ownership check.

    Raises:
        InputError: An id the store could not hold.
    """
    check_ids(f"assignment of {shown(annotator_id)}", annotator_id=annotator_id,
              pair_id=pair_id)
    with store.raw_read(snapshot=False) as connection:
        row = _ONE_ASSIGNED.first(connection, {"pair_id": pair_id, "annotator_id": annotator_id})
    return None if row is None else _assigned(row)


def assigned_pair_ids(store: Store, annotator_id: str) -> list[str]:
    """The ids of every pair assigned to `annotator_id` (one query on the annotator index).

    Raises:
        InputError: An id the store could not hold.
    """
    check_ids(f"assignments of {shown(annotator_id)}", annotator_id=annotator_id)
    query = select(Assignment.pair_id).where(Assignment.annotator_id == annotator_id)
    with store.read() as session:
        return list(session.scalars(query))


_TOKEN_HASH = select(Annotator.token_hash).where(
    Annotator.annotator_id == bindparam("annotator_id"))


def token_hashes(store: Store) -> dict[str, str]:
    """Annotator id → the hash of their current login token, for every annotator with one."""
    query = select(Annotator.annotator_id, Annotator.token_hash).where(
        Annotator.token_hash.is_not(None))
    with store.read() as session:
        return {annotator_id: stored for annotator_id, stored in session.execute(query)
                if stored is not None}


def token_hash(store: Store, annotator_id: str) -> str | None:
    """The hash of the annotator's current login token, or None (no such annotator, no token).

    A session remembers it, so a replaced token (`issue_token`) ends the old sessions.
    """
    check_ids(f"login of {shown(annotator_id)}", annotator_id=annotator_id)
    with store.engine.connect() as connection:
        stored: str | None = connection.scalar(_TOKEN_HASH, {"annotator_id": annotator_id})
    return stored

"""What the web app reads about one annotator: their assignments and their current login."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from robopref.store.models import Annotator, Assignment, Pair
from robopref.store.session import Store
from robopref.store.text import check_ids, shown


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

    @property
    def right_trajectory_id(self) -> str:
        """Shown on the right."""
        a, b = self.trajectory_a_id, self.trajectory_b_id
        return b if self.left_trajectory_id == a else a


def assigned_pairs(store: Store, annotator_id: str) -> list[AssignedPair]:
    """Every pair assigned to `annotator_id`, in any batch, in no particular order.

    Raises:
        InputError: An id the store could not hold.
    """
    check_ids(f"assignments of {shown(annotator_id)}", annotator_id=annotator_id)
    query = (
        select(Assignment.pair_id, Assignment.left_trajectory_id, Assignment.completed,
               Pair.trajectory_a_id, Pair.trajectory_b_id)
        .join(Pair, Pair.pair_id == Assignment.pair_id)
        .where(Assignment.annotator_id == annotator_id)
    )
    with store.read() as session:
        rows = session.execute(query).all()
    return [
        AssignedPair(
            pair_id=pair_id, trajectory_a_id=a, trajectory_b_id=b, left_trajectory_id=left,
            completed=bool(completed),
        )
        for pair_id, left, completed, a, b in rows
    ]


def token_hash(store: Store, annotator_id: str) -> str | None:
    """The hash of the annotator's current login token, or None (no such annotator, no token).

    A session remembers it, so a replaced token (`issue_token`) ends the old sessions.
    """
    check_ids(f"login of {shown(annotator_id)}", annotator_id=annotator_id)
    with store.read() as session:
        row = session.get(Annotator, annotator_id)
        return None if row is None else row.token_hash

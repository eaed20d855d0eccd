"""Whether an annotator was handed a trajectory's clip: in an assigned pair or ranking set."""

from __future__ import annotations

from sqlalchemy import BindParameter, bindparam, exists, or_, select

from robopref.store.models import Assignment, Pair, RankingAssignment, RankingSetMember
from robopref.store.session import Store

_ANNOTATOR: BindParameter[str] = bindparam("annotator_id")
_TRAJECTORY: BindParameter[str] = bindparam("trajectory_id")
_MAY_WATCH = select(
    or_(
        exists()
        .where(Assignment.annotator_id == _ANNOTATOR, Pair.pair_id == Assignment.pair_id)
        .where(or_(Pair.trajectory_a_id == _TRAJECTORY, Pair.trajectory_b_id == _TRAJECTORY)),
        exists().where(
            RankingAssignment.annotator_id == _ANNOTATOR,
            RankingSetMember.ranking_set_id == RankingAssignment.ranking_set_id,
            RankingSetMember.trajectory_id == _TRAJECTORY,
        ),
    )
)
"""One statement, built once: is the trajectory in a pair or set assigned to the annotator?"""


def may_watch(store: Store, annotator_id: str, trajectory_id: str) -> bool:
    """True when `trajectory_id` is in a pair or ranking set assigned to `annotator_id`.

    Any batch and state count (answered, skipped, closed): calibration feedback shows the
    clips of answered pairs again.
    """
    with store.read_rows() as connection:
        found = connection.execute(
            _MAY_WATCH, {"annotator_id": annotator_id, "trajectory_id": trajectory_id}
        ).scalar()
    return bool(found)

"""An annotator's ranking queue: the next set to rank, what is left, and the sets they hold."""

from __future__ import annotations

from sqlalchemy import BindParameter, Select, func, select

from robopref.store.models import (
    Batch,
    BatchStatus,
    RankingAssignment,
    RankingSet,
    RankingSetMember,
    TrajectoryRow,
)
from robopref.store.records import RankingQueueItem
from robopref.store.session import Store
from robopref.store.text import check_ids, shown


def _open_sets(annotator_id: str | BindParameter[str]) -> Select[RankingSet]:
    return (
        select(RankingSet)
        .join(RankingAssignment, RankingAssignment.ranking_set_id == RankingSet.ranking_set_id)
        .join(Batch, Batch.batch_id == RankingSet.batch_id)
        .where(RankingAssignment.annotator_id == annotator_id,
               RankingAssignment.completed.is_(False), Batch.status == BatchStatus.OPEN.value)
    )


def open_sets_count_query(annotator_id: str | BindParameter[str]) -> Select[int]:
    """The count `rankings_waiting` answers, as a statement (`annotator_id` may be bound)."""
    return select(func.count()).select_from(_open_sets(annotator_id).subquery())


def next_ranking(store: Store, annotator_id: str) -> RankingQueueItem | None:
    """The annotator's next unranked set in an open batch (oldest batch first), or None.

    Raises:
        InputError: An id the store could not hold.
    """
    check_ids(f"rankings of {shown(annotator_id)}", annotator_id=annotator_id)
    work = _open_sets(annotator_id)
    with store.read() as session:
        ranking_set = session.scalars(
            work.order_by(Batch.created_at, Batch.batch_id, RankingSet.ranking_set_id).limit(1)
        ).first()
        if ranking_set is None:
            return None
        remaining = int(session.scalar(select(func.count()).select_from(work.subquery())) or 0)
        members = session.execute(
            select(RankingSetMember.trajectory_id, TrajectoryRow.clip_path)
            .join(TrajectoryRow, TrajectoryRow.trajectory_id == RankingSetMember.trajectory_id)
            .where(RankingSetMember.ranking_set_id == ranking_set.ranking_set_id)
            .order_by(RankingSetMember.position)
        ).all()
    return RankingQueueItem(
        ranking_set_id=ranking_set.ranking_set_id, batch_id=ranking_set.batch_id,
        task=ranking_set.task, trajectory_ids=tuple(str(t) for t, _ in members),
        clip_paths=tuple(None if c is None else str(c) for _, c in members),
        remaining=remaining,
    )


def rankings_waiting(store: Store, annotator_id: str) -> int:
    """Ranking sets assigned to the annotator in open batches and not ranked yet.

    Raises:
        InputError: An id the store could not hold.
    """
    check_ids(f"rankings of {shown(annotator_id)}", annotator_id=annotator_id)
    with store.read() as session:
        return int(session.scalar(open_sets_count_query(annotator_id)) or 0)


def assigned_ranking_set_ids(store: Store, annotator_id: str) -> list[str]:
    """Every ranking set assigned to the annotator (ranked or not, any batch), sorted.

    Raises:
        InputError: An id the store could not hold.
    """
    check_ids(f"rankings of {shown(annotator_id)}", annotator_id=annotator_id)
    query = select(RankingAssignment.ranking_set_id).where(
        RankingAssignment.annotator_id == annotator_id).order_by(RankingAssignment.ranking_set_id)
    with store.read() as session:
        return list(session.scalars(query))


def ranking_set_members(store: Store, ranking_set_id: str) -> tuple[str, ...]:
    """The trajectories of a ranking set in presentation order (empty for an unknown set).

    Raises:
        InputError: An id the store could not hold.
    """
    check_ids(f"ranking set {shown(ranking_set_id)}", ranking_set_id=ranking_set_id)
    query = (select(RankingSetMember.trajectory_id)
             .where(RankingSetMember.ranking_set_id == ranking_set_id)
             .order_by(RankingSetMember.position))
    with store.read() as session:
        return tuple(session.scalars(query))

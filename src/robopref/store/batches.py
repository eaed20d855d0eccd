"""Persisting a `PairBatch` (pairs, assignments, ranking sets) in one transaction."""

from __future__ import annotations

import logging
from collections import defaultdict

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from robopref.errors import InputError
from robopref.pairs.records import AssignmentSpec, PairBatch, PairSpec, RankingSetSpec
from robopref.store.counts import count_assigned
from robopref.store.models import (
    Assignment,
    Batch,
    BatchStatus,
    Pair,
    RankingAssignment,
    RankingSet,
    RankingSetMember,
    TrajectoryRow,
    utcnow,
)
from robopref.store.queries import ensure_annotators
from robopref.store.session import Store
from robopref.store.text import check_id, check_row, shown
from robopref.types import BatchKind, Choice, PairKind, Stratum

logger = logging.getLogger(__name__)


def create_batch(store: Store, batch: PairBatch) -> int:
    """Store a batch, its pairs, assignments and ranking sets; returns the number of pairs.

    Annotator ids not yet in the store are registered without a login token (give them one
    with `add_annotator`). Nothing is written if any check fails.

    Raises:
        InputError: The batch id exists, a trajectory is not synced (`sync_trajectories`),
            an assignment names a pair outside the batch or a left trajectory outside its
            pair, a pair id is used twice, or a text field could not be stored (`store.text`).
    """
    _check_batch_text(batch)
    pairs = {p.pair_id: p for p in batch.pairs}
    if len(pairs) != len(batch.pairs):
        raise InputError(batch.batch_id, "pair_id", "a pair id appears twice in the batch")
    _check_assignments(batch.batch_id, pairs, batch.assignments)
    with store.write() as session:
        if session.get(Batch, batch.batch_id) is not None:
            raise InputError(batch.batch_id, "batch_id", "a batch with this id already exists")
        _check_trajectories(session, batch)
        taken = list(session.scalars(select(Pair.pair_id).where(Pair.pair_id.in_(list(pairs)))))
        if taken:
            raise InputError(batch.batch_id, "pair_id", f"already stored: {sorted(taken)[:5]}")
        new = ensure_annotators(session, [a.annotator_id for a in batch.assignments])
        new += ensure_annotators(session, [a for r in batch.ranking_sets for a in r.annotator_ids])
        if new:
            logger.info("registered %d annotators without tokens: %s", len(new), new[:5])
        session.add(
            Batch(
                batch_id=batch.batch_id,
                kind=batch.kind.value,
                status=BatchStatus.OPEN.value,
                rubric=bool(batch.rubric),
                created_at=utcnow(),
            )
        )
        session.flush()
        _insert_pairs(session, batch.batch_id, batch.pairs)
        _insert_assignments(session, batch.batch_id, batch.assignments)
        _insert_ranking_sets(session, batch.batch_id, batch.ranking_sets)
    logger.info(
        "stored batch %s: %d pairs, %d assignments",
        batch.batch_id,
        len(batch.pairs),
        len(batch.assignments),
    )
    return len(batch.pairs)


def add_assignments(store: Store, batch_id: str, assignments: tuple[AssignmentSpec, ...]) -> int:
    """Assign more annotators to pairs of a stored batch (e.g. a calibration retest).

    Returns:
        The number of assignments added.

    Raises:
        InputError: No such batch, a pair outside it, a pair already assigned to that
            annotator, or an id the store could not hold; nothing is written then.
    """
    check_id(batch_id, where=shown(batch_id), field="batch_id")
    for a in assignments:
        check_row(Assignment, _assignment_text(a), where=shown(batch_id))
    with store.write() as session:
        if session.get(Batch, batch_id) is None:
            raise InputError(batch_id, "batch_id", "no such batch")
        stored = session.scalars(select(Pair).where(Pair.batch_id == batch_id)).all()
        pairs = {p.pair_id: _spec(p) for p in stored}
        _check_assignments(batch_id, pairs, assignments)
        taken = set(
            session.execute(
                select(Assignment.pair_id, Assignment.annotator_id).where(
                    Assignment.batch_id == batch_id
                )
            )
        )
        clash = [
            (a.pair_id, a.annotator_id) for a in assignments if (a.pair_id, a.annotator_id) in taken
        ]
        if clash:
            raise InputError(batch_id, "annotator_id", f"already assigned: {clash[:3]}")
        ensure_annotators(session, [a.annotator_id for a in assignments])
        start = _next_positions(session, batch_id)
        _insert_assignments(session, batch_id, assignments, start=start)
    return len(assignments)


def load_batch(store: Store, batch_id: str) -> PairBatch:
    """A stored batch's pairs as a `PairBatch` (assignments and ranking sets left out).

    Raises:
        InputError: No such batch.
    """
    check_id(batch_id, where=shown(batch_id), field="batch_id")
    with store.read() as session:
        batch = session.get(Batch, batch_id)
        if batch is None:
            raise InputError(batch_id, "batch_id", "no such batch")
        query = select(Pair).where(Pair.batch_id == batch_id).order_by(Pair.pair_id)
        pairs = tuple(_spec(p) for p in session.scalars(query))
        return PairBatch(batch_id=batch_id, kind=BatchKind(batch.kind), pairs=pairs,
                         assignments=(), rubric=bool(batch.rubric))


def calibration_batch_ids(store: Store, *, open_only: bool = False) -> list[str]:
    """Ids of the calibration batches, in the order they were created (set 1, set 2, …).

    With `open_only`, closed batches (no longer served) are left out.
    """
    query = (
        select(Batch.batch_id)
        .where(Batch.kind == BatchKind.CALIBRATION.value)
        .order_by(Batch.created_at, Batch.batch_id)
    )
    if open_only:
        query = query.where(Batch.status == BatchStatus.OPEN.value)
    with store.read() as session:
        return list(session.scalars(query))


def _check_batch_text(batch: PairBatch) -> None:
    """Every text field of the batch, as the store will hold it (`store.text`)."""
    where = shown(batch.batch_id)
    check_id(batch.batch_id, where=where, field="batch_id")
    for pair in batch.pairs:
        check_row(Pair, _pair_row(pair, batch.batch_id), where=where)
    for a in batch.assignments:
        check_row(Assignment, _assignment_text(a), where=where)
    for r in batch.ranking_sets:
        check_row(RankingSet, {"ranking_set_id": r.ranking_set_id, "task": r.task}, where=where)
        for trajectory_id in r.trajectory_ids:
            check_id(trajectory_id, where=where, field="trajectory_ids")
        for annotator_id in r.annotator_ids:
            check_id(annotator_id, where=where, field="annotator_ids")


def _pair_row(pair: PairSpec, batch_id: str) -> dict[str, object]:
    """The pairs-table row: `PAIR_COLUMNS` plus the calibration rationale."""
    return {**pair.as_row(batch_id), "rationale": pair.rationale}


def _assignment_text(a: AssignmentSpec) -> dict[str, str]:
    return {
        "pair_id": a.pair_id,
        "annotator_id": a.annotator_id,
        "left_trajectory_id": a.left_trajectory_id,
    }


def _spec(pair: Pair) -> PairSpec:
    return PairSpec(
        pair_id=pair.pair_id,
        trajectory_a_id=pair.trajectory_a_id,
        trajectory_b_id=pair.trajectory_b_id,
        task=pair.task,
        kind=PairKind(pair.kind),
        stratum=Stratum(pair.stratum),
        quartile_a=pair.quartile_a,
        quartile_b=pair.quartile_b,
        expected=None if pair.expected_preference is None else Choice(pair.expected_preference),
        duplicate_of=pair.duplicate_of,
        rationale=pair.rationale,
    )


def _next_positions(session: Session, batch_id: str) -> dict[str, int]:
    rows = session.execute(
        select(Assignment.annotator_id, func.max(Assignment.position))
        .where(Assignment.batch_id == batch_id)
        .group_by(Assignment.annotator_id)
    )
    return {annotator: int(last) + 1 for annotator, last in rows}


def _check_assignments(
    batch_id: str, pairs: dict[str, PairSpec], assignments: tuple[AssignmentSpec, ...]
) -> None:
    seen: set[tuple[str, str]] = set()
    for a in assignments:
        pair = pairs.get(a.pair_id)
        if pair is None:
            raise InputError(batch_id, "pair_id", f"assignment names {a.pair_id!r}, not in batch")
        if a.left_trajectory_id not in (pair.trajectory_a_id, pair.trajectory_b_id):
            raise InputError(
                batch_id,
                "left_trajectory_id",
                f"{a.left_trajectory_id!r} is not in pair {a.pair_id}",
            )
        key = (a.pair_id, a.annotator_id)
        if key in seen:
            raise InputError(batch_id, "annotator_id", f"{key} assigned twice")
        seen.add(key)


def _check_trajectories(session: Session, batch: PairBatch) -> None:
    wanted = {t for p in batch.pairs for t in (p.trajectory_a_id, p.trajectory_b_id)}
    wanted |= {t for r in batch.ranking_sets for t in r.trajectory_ids}
    known = set(
        session.scalars(
            select(TrajectoryRow.trajectory_id).where(TrajectoryRow.trajectory_id.in_(list(wanted)))
        )
    )
    missing = sorted(wanted - known)
    if missing:
        raise InputError(
            batch.batch_id,
            "trajectory_id",
            f"{len(missing)} not synced (run sync_trajectories): {missing[:5]}",
        )


def _insert_pairs(session: Session, batch_id: str, pairs: tuple[PairSpec, ...]) -> None:
    # originals first: a reversed duplicate's foreign key must find its original
    ordered = sorted(pairs, key=lambda p: p.duplicate_of is not None)
    rows = [_pair_row(p, batch_id) for p in ordered]
    originals = [r for r in rows if r["duplicate_of"] is None]
    duplicates = [r for r in rows if r["duplicate_of"] is not None]
    for chunk in (originals, duplicates):
        if chunk:
            session.execute(insert(Pair), chunk)


def _insert_assignments(
    session: Session,
    batch_id: str,
    assignments: tuple[AssignmentSpec, ...],
    start: dict[str, int] | None = None,
) -> None:
    position: dict[str, int] = defaultdict(int, start or {})
    rows = []
    for a in assignments:
        rows.append(
            {
                "pair_id": a.pair_id,
                "annotator_id": a.annotator_id,
                "batch_id": batch_id,
                "position": position[a.annotator_id],
                "left_trajectory_id": a.left_trajectory_id,
                "completed": False,
                "skipped": False,
            }
        )
        position[a.annotator_id] += 1
    if rows:
        session.execute(insert(Assignment), rows)
        count_assigned(session, batch_id, (a.annotator_id for a in assignments))


def _insert_ranking_sets(
    session: Session, batch_id: str, ranking_sets: tuple[RankingSetSpec, ...]
) -> None:
    for r in ranking_sets:
        if len(set(r.trajectory_ids)) != len(r.trajectory_ids) or len(r.trajectory_ids) < 2:
            raise InputError(r.ranking_set_id, "trajectory_ids", "need ≥ 2 distinct trajectories")
        session.add(RankingSet(ranking_set_id=r.ranking_set_id, batch_id=batch_id, task=r.task))
        session.flush()
        session.add_all(
            RankingSetMember(ranking_set_id=r.ranking_set_id, trajectory_id=t, position=i)
            for i, t in enumerate(r.trajectory_ids)
        )
        session.add_all(
            RankingAssignment(ranking_set_id=r.ranking_set_id, annotator_id=a, completed=False)
            for a in r.annotator_ids
        )

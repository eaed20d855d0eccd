"""Rankings: storing an annotator's best → worst ordering and expanding it into pairs."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from robopref.errors import InputError
from robopref.pairs.ranking import RANKING_PAIR_COLUMNS, expand_ranking
from robopref.pairs.records import RankingSetSpec
from robopref.store.models import (
    Ranking,
    RankingAssignment,
    RankingItem,
    RankingSet,
    RankingSetMember,
    utcnow,
)
from robopref.store.queries import as_utc
from robopref.store.records import RankingSubmission, SubmitResult
from robopref.store.session import Store
from robopref.store.submit import NotAssignedError, stored_id
from robopref.store.text import check_id, check_ids, shown

RANKING_PREFERENCE_COLUMNS = (*RANKING_PAIR_COLUMNS, "ranking_id", "batch_id", "created_at")
"""Columns of `ranking_preferences`: `robopref.pairs.expand_ranking`'s rows plus provenance."""


def submit_ranking(store: Store, submission: RankingSubmission) -> SubmitResult:
    """Store a ranking in one transaction; a retried idempotency key returns the original.

    Raises:
        InputError: The ordering is not a permutation of the set, or a field is invalid
            (`flags`: a clip outside the ordering or a flag outside `RANKING_FLAGS`).
        NotAssignedError: The set is not assigned to this annotator.
    """
    where = f"ranking {shown(submission.annotator_id)}/{shown(submission.ranking_set_id)}"
    check_ids(where, annotator_id=submission.annotator_id,
              ranking_set_id=submission.ranking_set_id,
              idempotency_key=submission.idempotency_key)
    for trajectory_id in submission.trajectory_ids:
        check_id(trajectory_id, where=where, field="trajectory_ids")
    if isinstance(submission.response_time_ms, bool) or not isinstance(
        submission.response_time_ms, int) or submission.response_time_ms < 0:
        raise InputError(where, "response_time_ms", "must be an integer ≥ 0")
    flags = submission.validated_flags()
    ranking_id = stored_id(submission.annotator_id, f"ranking\x00{submission.idempotency_key}")
    try:
        with store.write() as session:
            if session.get(Ranking, ranking_id) is not None:
                return SubmitResult(ranking_id, created=False)
            key = (submission.ranking_set_id, submission.annotator_id)
            if session.get(RankingAssignment, key) is None:
                raise NotAssignedError(where, "ranking_set_id", "not assigned to this annotator")
            members = set(session.scalars(select(RankingSetMember.trajectory_id).where(
                RankingSetMember.ranking_set_id == submission.ranking_set_id)))
            ordered = tuple(submission.trajectory_ids)
            if len(set(ordered)) != len(ordered) or set(ordered) != members:
                raise InputError(where, "trajectory_ids",
                                 f"must order each of the {len(members)} set members once")
            session.add(Ranking(
                ranking_id=ranking_id, ranking_set_id=submission.ranking_set_id,
                annotator_id=submission.annotator_id,
                response_time_ms=submission.response_time_ms,
                idempotency_key=submission.idempotency_key, created_at=utcnow(),
            ))
            session.flush()
            session.add_all(RankingItem(ranking_id=ranking_id, rank=i, trajectory_id=t,
                                        flags=flags.get(t))
                            for i, t in enumerate(ordered))
            session.execute(update(RankingAssignment).where(
                RankingAssignment.ranking_set_id == submission.ranking_set_id,
                RankingAssignment.annotator_id == submission.annotator_id,
            ).values(completed=True))
    except IntegrityError:
        with store.read() as session:
            if session.get(Ranking, ranking_id) is None:
                raise
        return SubmitResult(ranking_id, created=False)
    return SubmitResult(ranking_id, created=True)


def ranking_preferences(store: Store, batch_id: str | None = None) -> pd.DataFrame:
    """Every stored ranking expanded into its k·(k−1)/2 pairwise preferences.

    The expansion is `robopref.pairs.expand_ranking` (A/B in the set's own order, so pair
    ids agree across annotators; positions 1 = best); each row also keeps the ranking it
    came from, its batch and when it was submitted. Columns: `RANKING_PREFERENCE_COLUMNS`.
    """
    query = (
        select(Ranking, RankingSet)
        .join(RankingSet, RankingSet.ranking_set_id == Ranking.ranking_set_id)
        .order_by(Ranking.created_at, Ranking.ranking_id)
    )
    if batch_id is not None:
        query = query.where(RankingSet.batch_id == batch_id)
    frames = []
    with store.read() as session:
        for ranking, ranking_set in session.execute(query):
            members = session.scalars(select(RankingSetMember.trajectory_id).where(
                RankingSetMember.ranking_set_id == ranking_set.ranking_set_id,
            ).order_by(RankingSetMember.position))
            ordered = session.scalars(select(RankingItem.trajectory_id).where(
                RankingItem.ranking_id == ranking.ranking_id).order_by(RankingItem.rank))
            spec = RankingSetSpec(ranking_set_id=ranking_set.ranking_set_id,
                                  task=ranking_set.task, trajectory_ids=tuple(members),
                                  annotator_ids=(ranking.annotator_id,))
            rows = expand_ranking(spec, list(ordered), annotator_id=ranking.annotator_id)
            frames.append(rows.assign(ranking_id=ranking.ranking_id,
                                      batch_id=ranking_set.batch_id,
                                      created_at=as_utc(ranking.created_at)))
    if not frames:
        return pd.DataFrame(columns=list(RANKING_PREFERENCE_COLUMNS))
    return pd.concat(frames, ignore_index=True)[list(RANKING_PREFERENCE_COLUMNS)]

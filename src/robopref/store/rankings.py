"""Rankings: storing an annotator's best → worst ordering and expanding it into pairs."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from robopref.errors import InputError
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

RANKING_PAIR_COLUMNS = (
    "pair_id", "trajectory_a_id", "trajectory_b_id", "annotator_id", "preference",
    "ranking_id", "ranking_set_id", "batch_id", "rank_a", "rank_b", "created_at",
)
"""Columns of `ranking_preferences`: one implied comparison per row, with its provenance."""


def submit_ranking(store: Store, submission: RankingSubmission) -> SubmitResult:
    """Store a ranking in one transaction; a retried idempotency key returns the original.

    Raises:
        InputError: The ordering is not a permutation of the set, or a field is invalid.
        NotAssignedError: The set is not assigned to this annotator.
    """
    where = f"ranking {submission.annotator_id}/{submission.ranking_set_id}"
    if isinstance(submission.response_time_ms, bool) or not isinstance(
        submission.response_time_ms, int) or submission.response_time_ms < 0:
        raise InputError(where, "response_time_ms", "must be an integer ≥ 0")
    if not submission.idempotency_key or len(submission.idempotency_key) > 128:
        raise InputError(where, "idempotency_key", "must be 1–128 characters")
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
            session.add_all(RankingItem(ranking_id=ranking_id, rank=i, trajectory_id=t)
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
    """Every ranking expanded into its k·(k−1)/2 pairwise preferences.

    Each row orients the pair canonically (`trajectory_a_id` < `trajectory_b_id`, so the
    same two trajectories from different rankings share a `pair_id`), says which one the
    ranking put higher (`A`/`B`), and keeps the provenance: ranking, set, batch, annotator
    and both ranks (0 = best). Columns: `RANKING_PAIR_COLUMNS`.
    """
    query = (
        select(Ranking, RankingSet.batch_id)
        .join(RankingSet, RankingSet.ranking_set_id == Ranking.ranking_set_id)
        .order_by(Ranking.created_at, Ranking.ranking_id)
    )
    if batch_id is not None:
        query = query.where(RankingSet.batch_id == batch_id)
    rows: list[dict[str, Any]] = []
    with store.read() as session:
        for ranking, batch in session.execute(query):
            ordered = list(session.scalars(select(RankingItem.trajectory_id).where(
                RankingItem.ranking_id == ranking.ranking_id).order_by(RankingItem.rank)))
            rows.extend(_expand(ranking, batch, ordered))
    return pd.DataFrame(rows, columns=list(RANKING_PAIR_COLUMNS))


def _expand(ranking: Ranking, batch_id: str, ordered: list[str]) -> list[dict[str, Any]]:
    rank = {t: i for i, t in enumerate(ordered)}
    rows = []
    for i, first in enumerate(ordered):
        for second in ordered[i + 1 :]:
            a, b = sorted((first, second))
            rows.append({
                "pair_id": f"{ranking.ranking_set_id}:{a}:{b}",
                "trajectory_a_id": a, "trajectory_b_id": b,
                "annotator_id": ranking.annotator_id,
                "preference": "A" if rank[a] < rank[b] else "B",
                "ranking_id": ranking.ranking_id, "ranking_set_id": ranking.ranking_set_id,
                "batch_id": batch_id, "rank_a": rank[a], "rank_b": rank[b],
                "created_at": as_utc(ranking.created_at),
            })
    return rows

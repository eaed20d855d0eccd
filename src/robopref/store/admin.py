"""What the annotation lead reads and changes: tokens, exclusions, batch and annotator progress."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from sqlalchemy import Row, case, func, select, update

from robopref.store.models import (
    Annotation,
    Annotator,
    Assignment,
    Batch,
    BatchStatus,
    Pair,
    RankingAssignment,
    RankingSet,
)
from robopref.store.queries import as_utc
from robopref.store.session import Store
from robopref.store.text import check_ids, shown
from robopref.types import BatchKind

IDLE_GAP_S = 600.0
"""A pause longer than this between two answers is a break, not time spent annotating."""


# --- tokens and exclusions ----------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    """An annotator's role and whether a login token is set."""

    role: str
    has_token: bool


def account(store: Store, annotator_id: str) -> Account | None:
    """The annotator's account, or None when there is none such."""
    check_ids(f"account of {shown(annotator_id)}", annotator_id=annotator_id)
    with store.read() as session:
        row = session.get(Annotator, annotator_id)
        return None if row is None else Account(row.role, row.token_hash is not None)


def revoke_token(store: Store, annotator_id: str) -> bool:
    """Forget the annotator's login token: it stops signing in and their sessions end.

    Sessions end because `robopref.web.deps.current_session` compares the cookie's tag with
    the stored token hash on every request, and there is none any more.

    Returns:
        False when there is no such annotator.
    """
    check_ids(f"token of {shown(annotator_id)}", annotator_id=annotator_id)
    with store.write() as session:
        row = session.get(Annotator, annotator_id)
        if row is None:
            return False
        row.token_hash = None  # an ORM set: this process's login checks forget it at once
    return True


def set_excluded(store: Store, annotator_id: str, excluded: bool) -> bool:
    """Leave an annotator's labels out of aggregation (`excluded`) or take them back in.

    Returns:
        False when there is no such annotator.
    """
    check_ids(f"exclusion of {shown(annotator_id)}", annotator_id=annotator_id)
    with store.write() as session:
        changed = session.execute(
            update(Annotator).where(Annotator.annotator_id == annotator_id)
            .values(excluded=bool(excluded))
        ).rowcount  # type: ignore[attr-defined]
    return bool(changed)


def excluded_annotators(store: Store) -> list[str]:
    """Sorted ids of the annotators whose labels the lead excluded from aggregation."""
    with store.read() as session:
        query = select(Annotator.annotator_id).where(Annotator.excluded.is_(True))
        return sorted(session.scalars(query))


# --- progress -----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class BatchProgress:
    """How far one batch has got."""

    batch_id: str
    kind: str
    """`production`, `calibration` or `ranking` (`robopref.types.BatchKind`)."""
    status: str
    """`open` (served) or `closed`."""
    rubric: bool
    """The page asks the rubric sub-questions for its pairs."""
    pairs: int
    """Pairs of the batch; ranking sets for a ranking batch."""
    assignments: int
    """Copies handed to annotators (pair assignments, or ranking assignments)."""
    done: int
    """Assignments answered."""
    skipped: int
    """Assignments the annotator skipped unanswered."""
    created_at: datetime | None


def _count(rows: Any) -> dict[str, tuple[int, ...]]:
    return {str(key): tuple(int(v or 0) for v in values) for key, *values in rows}


def batch_progress(store: Store) -> list[BatchProgress]:
    """Every batch, oldest first, with its pairs (or sets), assignments and answers."""
    done = func.sum(case((Assignment.completed.is_(True), 1), else_=0))
    skipped = func.sum(case((Assignment.skipped.is_(True), 1), else_=0))
    ranked = func.sum(case((RankingAssignment.completed.is_(True), 1), else_=0))
    with store.read() as session:
        batches = session.execute(
            select(Batch.batch_id, Batch.kind, Batch.status, Batch.rubric, Batch.created_at)
            .order_by(Batch.created_at, Batch.batch_id)
        ).all()
        pairs = _count(session.execute(
            select(Pair.batch_id, func.count()).group_by(Pair.batch_id)))
        sets = _count(session.execute(
            select(RankingSet.batch_id, func.count()).group_by(RankingSet.batch_id)))
        assigned = _count(session.execute(
            select(Assignment.batch_id, func.count(), done, skipped)
            .group_by(Assignment.batch_id)))
        ranking = _count(session.execute(
            select(RankingSet.batch_id, func.count(), ranked)
            .join(RankingAssignment, RankingAssignment.ranking_set_id == RankingSet.ranking_set_id)
            .group_by(RankingSet.batch_id)))
    out = []
    for batch_id, kind, status, rubric, created_at in batches:
        a_n, a_done, a_skipped = assigned.get(batch_id, (0, 0, 0))
        r_n, r_done = ranking.get(batch_id, (0, 0))
        out.append(BatchProgress(
            batch_id=batch_id, kind=kind, status=status, rubric=bool(rubric),
            pairs=pairs.get(batch_id, (0,))[0] + sets.get(batch_id, (0,))[0],
            assignments=a_n + r_n, done=a_done + r_done, skipped=a_skipped,
            created_at=as_utc(created_at),
        ))
    return out


@dataclass(frozen=True, kw_only=True)
class AnnotatorActivity:
    """One annotator's account and work so far."""

    annotator_id: str
    role: str
    certified: bool
    excluded: bool
    """The lead left their labels out of aggregation."""
    has_token: bool
    """A login token is set (False once revoked, or never issued)."""
    done: int
    """Pair assignments answered."""
    assigned: int
    """Pair assignments, answered or not, skipped included."""
    skipped: int
    calibration_pending: int
    """Unanswered, unskipped assignments in open calibration batches."""
    production_pending: int
    """Unanswered, unskipped assignments and ranking sets in open production/ranking batches."""
    rankings_done: int
    rankings_assigned: int
    annotations: int
    """Annotations stored (the rate below counts these)."""
    per_hour: float | None
    """Comparisons per hour of active time (pauses over `IDLE_GAP_S` left out); None below two."""
    median_response_ms: float | None
    last_active: datetime | None
    """When their latest annotation was stored (UTC)."""


def active_seconds(created_s: np.ndarray, response_ms: np.ndarray) -> float:
    """Time spent annotating: gaps between answers, a pause's answer counting its own time.

    Args:
        created_s: Submit times, seconds, ascending.
        response_ms: Each answer's response time (ms): the first answer, and the first after
            a pause longer than `IDLE_GAP_S`, count this instead of the gap.

    >>> float(active_seconds(np.array([0.0, 30.0, 60.0, 5000.0]), np.full(4, 20_000.0)))
    100.0
    """
    gaps = np.diff(created_s, prepend=-np.inf)
    own = np.minimum(response_ms / 1000.0, IDLE_GAP_S)
    return float(np.where(gaps > IDLE_GAP_S, own, gaps).sum())


class _Timing(NamedTuple):
    annotations: int
    per_hour: float | None
    median_response_ms: float | None
    last_active: datetime | None


_NO_TIMING = _Timing(0, None, None, None)


def _timing(rows: Sequence[Row[str, datetime, int]]) -> dict[str, _Timing]:
    """Each annotator's count, pace, median response time and latest answer."""
    grouped: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
    for annotator_id, created_at, response_ms in rows:
        grouped[annotator_id].append((as_utc(created_at) or created_at, int(response_ms)))
    out = {}
    for annotator_id, answers in grouped.items():
        answers.sort()
        created = np.array([t.timestamp() for t, _ in answers])
        times = np.array([ms for _, ms in answers], dtype=float)
        active = active_seconds(created, times)
        rate = len(answers) / active * 3600.0 if len(answers) >= 2 and active > 0 else None
        out[annotator_id] = _Timing(len(answers), rate, float(np.median(times)), answers[-1][0])
    return out


def annotator_activity(store: Store) -> list[AnnotatorActivity]:
    """Every annotator, by id: account state, progress, pace and latest activity."""
    done = func.sum(case((Assignment.completed.is_(True), 1), else_=0))
    skipped = func.sum(case((Assignment.skipped.is_(True), 1), else_=0))
    waiting = ((Batch.status == BatchStatus.OPEN.value) & Assignment.completed.is_(False)
               & Assignment.skipped.is_(False))
    calibration = Batch.kind == BatchKind.CALIBRATION.value
    pending = func.sum(case((waiting & calibration, 1), else_=0))
    production = func.sum(case((waiting & ~calibration, 1), else_=0))
    ranked = func.sum(case((RankingAssignment.completed.is_(True), 1), else_=0))
    to_rank = func.sum(case(((Batch.status == BatchStatus.OPEN.value)
                             & RankingAssignment.completed.is_(False), 1), else_=0))
    with store.read() as session:
        accounts = session.execute(
            select(Annotator.annotator_id, Annotator.role, Annotator.certified,
                   Annotator.excluded, Annotator.token_hash.is_not(None))
            .order_by(Annotator.annotator_id)
        ).all()
        work = _count(session.execute(
            select(Assignment.annotator_id, func.count(), done, skipped, pending, production)
            .join(Batch, Batch.batch_id == Assignment.batch_id)
            .group_by(Assignment.annotator_id)))
        rankings = _count(session.execute(
            select(RankingAssignment.annotator_id, func.count(), ranked, to_rank)
            .join(RankingSet, RankingSet.ranking_set_id == RankingAssignment.ranking_set_id)
            .join(Batch, Batch.batch_id == RankingSet.batch_id)
            .group_by(RankingAssignment.annotator_id)))
        answers = session.execute(select(
            Annotation.annotator_id, Annotation.created_at, Annotation.response_time_ms)).all()
    timing = _timing(answers)
    out = []
    for annotator_id, role, certified, excluded, has_token in accounts:
        n, n_done, n_skipped, n_calibration, n_production = work.get(annotator_id, (0,) * 5)
        r_n, r_done, r_pending = rankings.get(annotator_id, (0, 0, 0))
        t = timing.get(annotator_id, _NO_TIMING)
        out.append(AnnotatorActivity(
            annotator_id=annotator_id, role=role, certified=bool(certified),
            excluded=bool(excluded), has_token=bool(has_token), done=n_done, assigned=n,
            skipped=n_skipped, calibration_pending=n_calibration,
            production_pending=n_production + r_pending, rankings_done=r_done,
            rankings_assigned=r_n, annotations=t.annotations, per_hour=t.per_hour,
            median_response_ms=t.median_response_ms, last_active=t.last_active,
        ))
    return out


# --- answers for live quality control -----------------------------------------------------

ANSWER_COLUMNS = ("pair_id", "annotator_id", "preference", "confidence", "response_time_ms",
                  "left_trajectory_id", "interface_version", "created_at")
"""Columns of `answers_frame`: what quality control reads of each annotation
(`interface_version` tells AI labels, which QA leaves out, from people's)."""


def answers_frame(store: Store) -> pd.DataFrame:
    """Every annotation's `ANSWER_COLUMNS`, oldest first, read as plain rows (no ORM objects).

    The dashboard's fast path to `robopref.quality.resolve_annotations`; `annotations_frame`
    gives every column of the contract. `created_at` is UTC.
    """
    query = select(*(getattr(Annotation, c) for c in ANSWER_COLUMNS)).order_by(
        Annotation.created_at, Annotation.annotation_id)
    with store.read() as session:
        rows = session.execute(query).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=list(ANSWER_COLUMNS))
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    return frame.astype({"confidence": "int64", "response_time_ms": "int64"})


# --- what annotators wrote ----------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class AnswerDetail:
    """One annotation of a pair, as the lead reviews it."""

    annotator_id: str
    preference: str
    """`A`, `B` or `equal`, about the pair's A/B."""
    confidence: int
    reason: str | None
    """The free-text reason, verbatim."""
    response_time_ms: int
    left_trajectory_id: str
    """Which trajectory this annotator saw on the left."""
    created_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class PairDetail:
    """A pair and every answer to it."""

    pair_id: str
    batch_id: str
    task: str
    kind: str
    stratum: str
    quartile_a: int
    quartile_b: int
    trajectory_a_id: str
    trajectory_b_id: str
    expected_preference: str | None
    annotations: tuple[AnswerDetail, ...]


def pair_detail(store: Store, pair_id: str) -> PairDetail | None:
    """The pair and its annotations (oldest first), or None when there is no such pair."""
    check_ids(f"pair {shown(pair_id)}", pair_id=pair_id)
    with store.read() as session:
        pair = session.get(Pair, pair_id)
        if pair is None:
            return None
        query = (select(Annotation).where(Annotation.pair_id == pair_id)
                 .order_by(Annotation.created_at, Annotation.annotation_id))
        answers = tuple(
            AnswerDetail(annotator_id=a.annotator_id, preference=a.preference,
                         confidence=a.confidence, reason=a.free_text_reason,
                         response_time_ms=a.response_time_ms,
                         left_trajectory_id=a.left_trajectory_id, created_at=as_utc(a.created_at))
            for a in session.scalars(query)
        )
        return PairDetail(
            pair_id=pair.pair_id, batch_id=pair.batch_id, task=pair.task, kind=pair.kind,
            stratum=pair.stratum, quartile_a=pair.quartile_a, quartile_b=pair.quartile_b,
            trajectory_a_id=pair.trajectory_a_id, trajectory_b_id=pair.trajectory_b_id,
            expected_preference=pair.expected_preference, annotations=answers,
        )


@dataclass(frozen=True, kw_only=True)
class ReasonRow:
    """A free-text reason, with where it was given."""

    pair_id: str
    task: str
    annotator_id: str
    reason: str
    created_at: datetime | None


def recent_reasons(store: Store, limit: int = 50) -> list[ReasonRow]:
    """The latest `limit` annotations that carry a free-text reason, newest first."""
    query = (
        select(Annotation.pair_id, Pair.task, Annotation.annotator_id,
               Annotation.free_text_reason, Annotation.created_at)
        .join(Pair, Pair.pair_id == Annotation.pair_id)
        .where(Annotation.free_text_reason.is_not(None), Annotation.free_text_reason != "")
        .order_by(Annotation.created_at.desc(), Annotation.annotation_id.desc())
        .limit(limit)
    )
    with store.read() as session:
        rows = session.execute(query).all()
    return [ReasonRow(pair_id=p, task=t, annotator_id=a, reason=r or "", created_at=as_utc(c))
            for p, t, a, r, c in rows]

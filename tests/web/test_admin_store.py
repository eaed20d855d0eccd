"""`robopref.store.admin`: tokens, exclusions, batch progress and annotator activity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import update

from robopref.store import Submission, skip_assignment, submit_annotation
from robopref.store.admin import (
    IDLE_GAP_S,
    account,
    active_seconds,
    annotator_activity,
    batch_progress,
    excluded_annotators,
    pair_detail,
    recent_reasons,
    revoke_token,
    set_excluded,
)
from robopref.store.models import Annotation

from .conftest import Campaign

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _answer(campaign: Campaign, annotator_id: str, n: int, *, at: datetime,
            reason: str | None = None, interface_version: str | None = None) -> str:
    pair = campaign.batch.pairs[n]
    submit_annotation(campaign.store, Submission(
        annotator_id=annotator_id, pair_id=pair.pair_id, preference="A", confidence=3,
        response_time_ms=20_000, left_trajectory_id=pair.trajectory_b_id,
        idempotency_key=f"{annotator_id}-{n}", free_text_reason=reason,
        interface_version=interface_version))
    with campaign.store.write() as session:
        session.execute(update(Annotation).where(
            Annotation.annotator_id == annotator_id, Annotation.pair_id == pair.pair_id,
        ).values(created_at=at))
    return pair.pair_id


def test_active_time_leaves_breaks_out() -> None:
    created = np.array([0.0, 60.0, 120.0, 120.0 + IDLE_GAP_S + 1])
    assert active_seconds(created, np.full(4, 20_000.0)) == pytest.approx(20 + 60 + 60 + 20)
    assert active_seconds(np.array([5.0]), np.array([7_000.0])) == pytest.approx(7.0)


def test_activity_counts_pace_and_progress(campaign: Campaign) -> None:
    for n, minutes in enumerate((0, 1, 2, 180)):
        _answer(campaign, "ann-1", n, at=T0 + timedelta(minutes=minutes))
    skip_assignment(campaign.store, "ann-1", campaign.batch.pairs[5].pair_id)
    rows = {a.annotator_id: a for a in annotator_activity(campaign.store)}
    one = rows["ann-1"]
    assert (one.done, one.assigned, one.skipped, one.annotations) == (4, 6, 1, 4)
    assert one.per_hour == pytest.approx(4 / (20 + 60 + 60 + 20) * 3600)
    assert one.median_response_ms == 20_000 and one.last_active == T0 + timedelta(hours=3)
    assert one.production_pending == 1 and one.calibration_pending == 0
    idle = rows["ann-2"]
    assert (idle.done, idle.assigned, idle.per_hour, idle.last_active) == (0, 6, None, None)
    assert rows["outsider"].assigned == 0 and rows["outsider"].has_token


def test_batch_progress_counts_pairs_assignments_and_answers(campaign: Campaign) -> None:
    _answer(campaign, "ann-1", 0, at=T0)
    _answer(campaign, "ann-2", 0, at=T0)
    _answer(campaign, "ann-2", 1, at=T0)
    [row] = batch_progress(campaign.store)
    assert row.batch_id == campaign.batch.batch_id and row.status == "open"
    assert (row.pairs, row.assignments, row.done, row.skipped) == (6, 12, 3, 0)
    assert row.rubric is False and row.kind == "production"


def test_exclusions_and_revocation(campaign: Campaign) -> None:
    assert excluded_annotators(campaign.store) == []
    assert set_excluded(campaign.store, "ann-2", True)
    assert not set_excluded(campaign.store, "ghost", True)
    assert excluded_annotators(campaign.store) == ["ann-2"]
    assert set_excluded(campaign.store, "ann-2", False)
    assert excluded_annotators(campaign.store) == []
    assert revoke_token(campaign.store, "ann-1") and not revoke_token(campaign.store, "ghost")
    assert account(campaign.store, "ann-1") == account(campaign.store, "ann-1")
    found = account(campaign.store, "ann-1")
    assert found is not None and not found.has_token and found.role == "annotator"
    assert account(campaign.store, "ghost") is None


def test_pair_detail_and_recent_reasons_keep_the_text(campaign: Campaign) -> None:
    text = "<img src=x onerror=alert(1)> the other clip hit the table"
    pair_id = _answer(campaign, "ann-1", 2, at=T0, reason=text)
    _answer(campaign, "ann-2", 3, at=T0 + timedelta(minutes=1))
    detail = pair_detail(campaign.store, pair_id)
    assert detail is not None and [a.reason for a in detail.annotations] == [text]
    assert detail.annotations[0].left_trajectory_id == campaign.batch.pairs[2].trajectory_b_id
    assert pair_detail(campaign.store, "no-such") is None
    assert [(r.pair_id, r.reason) for r in recent_reasons(campaign.store)] == [(pair_id, text)]


def test_answers_frame_resolves_like_the_full_annotations_frame(campaign: Campaign) -> None:
    from robopref.quality import resolve_annotations
    from robopref.quality.frames import ANNOTATION_COLUMNS
    from robopref.store import annotations_frame, pairs_frame
    from robopref.store.admin import ANSWER_COLUMNS, answers_frame

    assert set(ANNOTATION_COLUMNS) <= set(ANSWER_COLUMNS)
    for n in range(3):
        _answer(campaign, "ann-1", n, at=T0 + timedelta(minutes=n))
        _answer(campaign, "ann-2", n, at=T0 + timedelta(minutes=n, seconds=30))
    pairs = pairs_frame(campaign.store)
    fast = resolve_annotations(answers_frame(campaign.store), pairs)
    full = resolve_annotations(annotations_frame(campaign.store), pairs)
    assert fast.equals(full)
    assert fast["created_at"].iloc[0] == T0


def test_live_qa_leaves_ai_labels_out_and_counts_them(campaign: Campaign) -> None:
    from robopref.web.dashboard.live_qa import live_qa

    for n in range(3):
        _answer(campaign, "ann-1", n, at=T0 + timedelta(minutes=n))
        _answer(campaign, "ann-2", n, at=T0 + timedelta(minutes=n, seconds=30),
                interface_version="ai:rubric/1")
    qa = live_qa(campaign.store)
    assert set(qa.resolved["annotator_id"]) == {"ann-1"}
    assert qa.report.summary["ai_labels_excluded"] == 3

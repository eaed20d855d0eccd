"""The annotator's queues: kinds served, prefetch, progress, ranking sets, calibration answers."""

from __future__ import annotations

from dataclasses import replace

import pytest
from tests.store.conftest import make_batch

from robopref.errors import InputError
from robopref.store import (
    RankingSubmission,
    Store,
    Submission,
    annotator_batch_ids,
    assigned_ranking_set_ids,
    assignment_progress,
    assignments_frame,
    calibration_answers,
    create_batch,
    is_batch_finished,
    next_assignment,
    next_ranking,
    pair_batch,
    ranking_set_members,
    rankings_waiting,
    record_certification_once,
    skip_assignment,
    submit_annotation,
    submit_ranking,
    upcoming_assignments,
)
from robopref.types import BatchKind, Choice


def _answer(store: Store, annotator: str, pair_id: str, choice: Choice, key: str) -> None:
    row = assignments_frame(store).set_index(["pair_id", "annotator_id"]).loc[(pair_id, annotator)]
    submit_annotation(store, Submission(
        annotator_id=annotator, pair_id=pair_id, preference=choice, confidence=3,
        response_time_ms=4000, left_trajectory_id=str(row.left_trajectory_id),
        idempotency_key=key))


def _calibration(store: Store) -> None:
    """Batch `cal` (created after b1): pairs p0, p1 with expert answers and rationales."""
    base = make_batch("cal", annotators=("ann-1",))
    pairs = tuple(replace(p, kind=p.kind.CALIBRATION, expected=Choice.B,
                          rationale=f"The better clip wins {p.pair_id}.")
                  for p in base.pairs[:2])
    assignments = tuple(a for a in base.assignments if a.pair_id in {"cal-p0", "cal-p1"})
    create_batch(store, replace(base, kind=BatchKind.CALIBRATION, pairs=pairs,
                                assignments=assignments, ranking_sets=()))


def test_kinds_filter_serves_only_those_batches(filled: Store) -> None:
    _calibration(filled)
    first = next_assignment(filled, "ann-1", kinds=[BatchKind.CALIBRATION], mark_shown=False)
    assert first is not None and first.batch_id == "cal" and first.remaining == 2
    production = next_assignment(filled, "ann-1", kinds=["production"], mark_shown=False)
    assert production is not None and production.batch_id == "b1"
    assert next_assignment(filled, "ann-2", kinds=[BatchKind.CALIBRATION]) is None
    with pytest.raises(InputError) as info:
        next_assignment(filled, "ann-1", kinds=["stratified"])
    assert info.value.field == "kinds"


def test_upcoming_follows_the_next_one_without_marking_it_shown(filled: Store) -> None:
    upcoming = upcoming_assignments(filled, "ann-1", k=2)
    current = next_assignment(filled, "ann-1", mark_shown=False)
    assert current is not None
    assert [u.pair_id for u in upcoming] == ["b1-p1", "b1-p2"] != [current.pair_id] * 2
    assert [u.remaining for u in upcoming] == [current.remaining - 1, current.remaining - 2]
    assert all(u.shown_at is None for u in upcoming)
    assert assignments_frame(filled)["shown_at"].isna().all()
    assert upcoming_assignments(filled, "ann-1", k=0) == []
    assert upcoming_assignments(filled, "nobody") == []
    with pytest.raises(InputError, match="k"):
        upcoming_assignments(filled, "ann-1", k=100)


def test_progress_counts_answered_and_skipped_per_kind(filled: Store) -> None:
    _calibration(filled)
    assert assignment_progress(filled, "ann-1", kinds=["production"]) == (0, 9)
    _answer(filled, "ann-1", "b1-p0", Choice.A, "k1")
    skip_assignment(filled, "ann-1", "b1-p1")
    assert assignment_progress(filled, "ann-1", kinds=["production"]).done == 2
    assert assignment_progress(filled, "ann-1").assigned == 11
    assert assignment_progress(filled, "ann-1", excluding=["b1"]) == (0, 2)
    assert assignment_progress(filled, "ann-2", kinds=["calibration"]) == (0, 0)


def test_a_batch_is_finished_when_nothing_is_left_open(filled: Store) -> None:
    _calibration(filled)
    assert pair_batch(filled, "cal-p0") == ("cal", BatchKind.CALIBRATION)
    assert pair_batch(filled, "nope") is None
    assert annotator_batch_ids(filled, "ann-1") == ["b1", "cal"]
    assert annotator_batch_ids(filled, "ann-1", kinds=["calibration"]) == ["cal"]
    _answer(filled, "ann-1", "cal-p0", Choice.B, "k1")
    assert not is_batch_finished(filled, "ann-1", "cal")
    skip_assignment(filled, "ann-1", "cal-p1")
    assert is_batch_finished(filled, "ann-1", "cal")
    assert not is_batch_finished(filled, "ann-2", "cal")  # holds nothing there


def test_calibration_answers_list_only_answered_pairs(filled: Store) -> None:
    _calibration(filled)
    assert calibration_answers(filled, "ann-1", "cal") == []
    _answer(filled, "ann-1", "cal-p1", Choice.A, "k1")
    skip_assignment(filled, "ann-1", "cal-p0")
    (answer,) = calibration_answers(filled, "ann-1", "cal")
    assert (answer.pair_id, answer.preference, answer.expected) == ("cal-p1", Choice.A, Choice.B)
    assert answer.rationale == "The better clip wins cal-p1."
    assert {answer.left_trajectory_id, answer.right_trajectory_id} == {"t01", "t02"}
    assert answer.left_clip_path == f"clips/{answer.left_trajectory_id}.mp4"


def test_an_attempt_is_recorded_once(filled: Store) -> None:
    _calibration(filled)
    first = record_certification_once(filled, annotator_id="ann-1", calibration_batch_id="cal",
                                      kappa=0.7, passed=True)
    again = record_certification_once(filled, annotator_id="ann-1", calibration_batch_id="cal",
                                      kappa=0.1, passed=False)
    assert first is not None and first.passed and again is None
    with pytest.raises(InputError, match="kappa"):
        record_certification_once(filled, annotator_id="ann-1", calibration_batch_id="b1",
                                  kappa=2.0, passed=True)


def test_ranking_queue_serves_members_in_order_until_ranked(filled: Store) -> None:
    item = next_ranking(filled, "ann-1")
    assert item is not None and item.ranking_set_id == "b1-r1" and item.remaining == 1
    assert item.trajectory_ids == ("t00", "t02", "t04", "t06", "t07")
    assert item.clip_paths[0] == "clips/t00.mp4" and len(item.clip_paths) == 5
    assert rankings_waiting(filled, "ann-1") == 1 and rankings_waiting(filled, "ann-3") == 0
    assert next_ranking(filled, "ann-3") is None
    assert ranking_set_members(filled, "b1-r1") == item.trajectory_ids
    submit_ranking(filled, RankingSubmission(
        annotator_id="ann-1", ranking_set_id="b1-r1", trajectory_ids=item.trajectory_ids[::-1],
        response_time_ms=1, idempotency_key="r"))
    assert next_ranking(filled, "ann-1") is None and rankings_waiting(filled, "ann-1") == 0
    assert assigned_ranking_set_ids(filled, "ann-1") == ["b1-r1"]  # ranked sets stay owned

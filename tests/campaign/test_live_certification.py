"""Certification as the web app runs it: phases, scoring a finished set, retests, feedback."""

from __future__ import annotations

import pytest

from robopref.campaign import (
    NextStep,
    Phase,
    calibration_feedback,
    finish_calibration,
    finish_if_calibration_done,
    next_work,
    phase_of,
    start_calibration,
)
from robopref.pairs import PairsConfig, select_calibration_sets, select_pairs
from robopref.quality import QAConfig
from robopref.store import (
    Store,
    Submission,
    add_annotator,
    assignments_frame,
    certification_history,
    create_batch,
    pairs_frame,
    skip_assignment,
    submit_annotation,
    sync_trajectories,
)
from robopref.types import Choice

CONFIG = PairsConfig(batch_size=10, calibration_size=8, annotators_per_pair=2,
                     duplicate_frac=0.0)
QA = QAConfig()


@pytest.fixture
def live(store: Store, tiny_pool: object) -> Store:
    """Two calibration sets, a production batch for `pro-1`/`pro-2`, and `new` (no work)."""
    manifest = tiny_pool(n=32, tasks=("reach a", "reach b"), frame_size=None).manifest  # type: ignore[operator]
    sync_trajectories(store, manifest)
    for calibration in select_calibration_sets(manifest, CONFIG):
        create_batch(store, calibration.batch)
    create_batch(store, select_pairs(manifest, CONFIG, annotator_ids=["pro-1", "pro-2"]))
    add_annotator(store, "new")
    return store


def _answer_all(store: Store, annotator: str, *, right: bool) -> bool:
    """Answer the open set: the expert answer (right) or its opposite; True if it completed."""
    expected = pairs_frame(store).set_index("pair_id")["expected_preference"]
    for n in range(100):
        work = next_work(store, annotator)
        if work.assignment is None:
            return False
        pair_id = work.assignment.pair_id
        truth = Choice(expected[pair_id])
        choice = truth if right else (Choice.A if truth is Choice.B else Choice.B)
        submit_annotation(store, Submission(
            annotator_id=annotator, pair_id=pair_id, preference=choice, confidence=4,
            response_time_ms=5000, left_trajectory_id=work.assignment.left_trajectory_id,
            idempotency_key=f"k{n}"))
        if finish_if_calibration_done(store, annotator, pair_id, QA):
            return True
    raise AssertionError("queue never emptied")


def test_a_new_annotator_is_served_calibration_only_and_certified_by_kappa(live: Store) -> None:
    assert phase_of(live, "new") is Phase.WAITING
    first = start_calibration(live, "new")
    assert first is not None and first.startswith("cal1-")
    assert start_calibration(live, "new") is None  # already holds a set
    work = next_work(live, "new")
    assert work.phase is Phase.CALIBRATION and work.progress == (0, 8)
    assert work.assignment is not None and work.assignment.batch_id == first
    assert [u.batch_id for u in work.upcoming] == [first, first]
    assert not work.feedback_available and work.rankings_waiting == 0
    assert _answer_all(live, "new", right=True)
    history = certification_history(live, "new")
    assert list(history["passed"]) == [True] and history["kappa"].iloc[0] == pytest.approx(1.0)
    after = next_work(live, "new")
    assert after.phase is Phase.DONE and after.feedback_available  # no production work yet
    feedback = calibration_feedback(live, "new", QA)
    assert feedback is not None and feedback.passed and feedback.next is NextStep.PRODUCTION
    assert feedback.attempt == 1 and feedback.threshold == 0.65 and len(feedback.items) == 8
    assert all(i.agreed and i.answer.rationale for i in feedback.items)


def test_a_failed_set_assigns_the_next_one_then_no_more(live: Store) -> None:
    start_calibration(live, "new")
    assert _answer_all(live, "new", right=False)
    feedback = calibration_feedback(live, "new", QA)
    assert feedback is not None and not feedback.passed and feedback.next is NextStep.SECOND_SET
    assert not any(i.agreed for i in feedback.items)
    work = next_work(live, "new")
    assert work.phase is Phase.CALIBRATION and work.progress == (0, 8)  # the second set
    assert work.assignment is not None and work.assignment.batch_id.startswith("cal2-")
    assert _answer_all(live, "new", right=False)
    feedback = calibration_feedback(live, "new", QA)
    assert feedback is not None and feedback.attempt == 2
    assert feedback.next is NextStep.NO_MORE_SETS
    assert phase_of(live, "new") is Phase.WAITING
    assert next_work(live, "new").assignment is None


def test_feedback_shows_sides_as_the_annotator_saw_them(live: Store) -> None:
    start_calibration(live, "new")
    _answer_all(live, "new", right=True)
    feedback = calibration_feedback(live, "new", QA)
    assert feedback is not None
    lefts = assignments_frame(live).query("annotator_id == 'new'").set_index("pair_id")
    sides = set()
    for item in feedback.items:
        a = item.answer
        assert a.left_trajectory_id == lefts.loc[a.pair_id, "left_trajectory_id"]
        shown_left_is_a = a.left_trajectory_id == a.trajectory_a_id
        expected_left = (a.expected is Choice.A) == shown_left_is_a
        assert item.expert_side == ("left" if expected_left else "right") == item.your_side
        sides.add(item.expert_side)
    assert sides == {"left", "right"}  # sides are randomised, so both occur


def test_finishing_twice_records_once_and_skips_count_as_done(live: Store) -> None:
    batch_id = start_calibration(live, "new")
    assert batch_id is not None
    for pair_id in assignments_frame(live, batch_id)["pair_id"]:
        skip_assignment(live, "new", pair_id)
    assert finish_if_calibration_done(live, "new", pair_id, QA)
    assert finish_calibration(live, "new", batch_id, QA) is NextStep.SECOND_SET
    history = certification_history(live, "new")
    assert len(history) == 1 and history["kappa"].iloc[0] == -1.0  # nothing answered
    feedback = calibration_feedback(live, "new", QA)
    assert feedback is not None and feedback.items == ()


def test_certified_annotators_get_production_and_never_calibration(live: Store) -> None:
    assert phase_of(live, "pro-1") is Phase.WAITING  # holds production pairs, not certified
    assert next_work(live, "pro-1").assignment is None
    start_calibration(live, "pro-1")
    _answer_all(live, "pro-1", right=True)
    work = next_work(live, "pro-1")
    assert work.phase is Phase.PRODUCTION and work.assignment is not None
    assert not work.assignment.batch_id.startswith("cal")
    assert work.progress.assigned == 10 and work.progress.done == 0
    assert calibration_feedback(live, "pro-2", QA) is None
    assert not finish_if_calibration_done(live, "pro-1", work.assignment.pair_id, QA)


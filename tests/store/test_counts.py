"""Assignment counts stay equal to a recount of the assignments through every writer."""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import replace

import pytest
from sqlalchemy import case, func, select
from tests.store.conftest import make_batch

from robopref.pairs.records import AssignmentSpec
from robopref.store import (
    AlreadyAnnotatedError,
    Store,
    Submission,
    add_assignments,
    assignment_progress,
    assignments_frame,
    create_batch,
    next_assignment,
    skip_assignment,
    submit_annotation,
    upcoming_assignments,
)
from robopref.store.counts import count_done_in
from robopref.store.models import Assignment, AssignmentCount
from robopref.types import BatchKind, Choice


def _recount(store: Store) -> dict[tuple[str, str], tuple[int, int]]:
    done = func.sum(case((Assignment.completed.is_(True) | Assignment.skipped.is_(True), 1),
                         else_=0))
    with store.read() as session:
        rows = session.execute(select(Assignment.annotator_id, Assignment.batch_id,
                                      func.count(), done)
                               .group_by(Assignment.annotator_id, Assignment.batch_id)).all()
    return {(a, b): (int(n), int(d)) for a, b, n, d in rows}


def _counts(store: Store) -> dict[tuple[str, str], tuple[int, int]]:
    with store.read() as session:
        rows = session.execute(select(AssignmentCount.annotator_id, AssignmentCount.batch_id,
                                      AssignmentCount.assigned, AssignmentCount.done)).all()
    return {(a, b): (n, d) for a, b, n, d in rows}


def _submit(store: Store, annotator: str, pair_id: str, key: str) -> bool:
    frame = assignments_frame(store).set_index(["pair_id", "annotator_id"])
    left = str(frame.loc[(pair_id, annotator)].left_trajectory_id)
    return submit_annotation(store, Submission(
        annotator_id=annotator, pair_id=pair_id, preference=Choice.A, confidence=3,
        response_time_ms=4000, left_trajectory_id=left, idempotency_key=key)).created


def test_counts_follow_submits_skips_retries_and_new_assignments(filled: Store) -> None:
    assert _counts(filled) == _recount(filled) == {
        (a, "b1"): (9, 0) for a in ("ann-1", "ann-2", "ann-3")}
    assert _submit(filled, "ann-1", "b1-p0", "k0")
    assert not _submit(filled, "ann-1", "b1-p0", "k0")  # a retry counts nothing
    with pytest.raises(AlreadyAnnotatedError):
        _submit(filled, "ann-1", "b1-p0", "other-key")
    skip_assignment(filled, "ann-1", "b1-p1")
    skip_assignment(filled, "ann-1", "b1-p1")  # skipped twice: once done
    assert _submit(filled, "ann-1", "b1-p1", "k1")  # answered after a skip: still once
    assert _submit(filled, "ann-2", "b1-p2", "k2")
    skip_assignment(filled, "ann-2", "b1-p2")  # a skip after the answer changes nothing
    base = make_batch("b2", annotators=("ann-1",))
    create_batch(filled, replace(base, kind=BatchKind.ACTIVE, ranking_sets=()))
    add_assignments(filled, "b1", (AssignmentSpec(pair_id="b1-p0", annotator_id="ann-4",
                                                  left_trajectory_id="t00"),))
    add_assignments(filled, "b1", (AssignmentSpec(pair_id="b1-p1", annotator_id="ann-4",
                                                  left_trajectory_id="t01"),))
    counts = _counts(filled)
    assert counts == _recount(filled)
    assert counts[("ann-1", "b1")] == (9, 2) and counts[("ann-2", "b1")] == (9, 1)
    assert counts[("ann-4", "b1")] == (2, 0) and counts[("ann-1", "b2")] == (9, 0)


def test_queue_positions_span_batches_from_the_counts(filled: Store) -> None:
    base = make_batch("b2", annotators=("ann-1",))
    create_batch(filled, replace(base, kind=BatchKind.ACTIVE, ranking_sets=()))
    for n, pair in enumerate(("b1-p0", "b1-p1", "b1-p2", "b1-p3", "b1-p4", "b1-p5", "b1-p6")):
        _submit(filled, "ann-1", pair, f"k{n}")
    first = next_assignment(filled, "ann-1", mark_shown=False)
    after = upcoming_assignments(filled, "ann-1", k=4)
    assert first is not None and (first.batch_id, first.remaining) == ("b1", 11)
    # the two left in b1 (gold, dup), then b2 from its start, remaining counting down
    assert [(i.batch_id, i.remaining) for i in after] == [
        ("b1", 10), ("b2", 9), ("b2", 8), ("b2", 7)]
    assert [i.pair_id for i in after[1:]] == ["b2-p0", "b2-p1", "b2-p2"]
    only_b2 = next_assignment(filled, "ann-1", batch_id="b2", mark_shown=False)
    assert only_b2 is not None and (only_b2.pair_id, only_b2.remaining) == ("b2-p0", 9)
    progress = assignment_progress(filled, "ann-1")
    assert (progress.done, progress.assigned) == (7, 18)


def test_threads_answering_and_skipping_at_once_keep_the_counts(filled: Store) -> None:
    pairs = [f"b1-p{i}" for i in range(7)]
    errors: list[BaseException] = []

    def work(annotator: str, n: int) -> None:
        try:
            for i, pair in enumerate(pairs):
                if (i + n) % 3 == 0:
                    skip_assignment(filled, annotator, pair)
                with contextlib.suppress(AlreadyAnnotatedError):  # the twin thread won
                    _submit(filled, annotator, pair, f"{annotator}-{pair}-{n % 2}")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(a, n))
               for a in ("ann-1", "ann-2") for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    counts = _counts(filled)
    assert counts == _recount(filled)
    assert counts[("ann-1", "b1")] == counts[("ann-2", "b1")] == (9, 7)


def test_an_answer_waiting_on_a_skip_counts_the_pair_once(filled: Store) -> None:
    """The submit waits for the skip's lock on the assignment, then sees it skipped."""
    results: list[bool] = []
    waiting = threading.Thread(target=lambda: results.append(
        _submit(filled, "ann-1", "b1-p0", "k0")))
    with filled.write() as session:  # a skip, held open while the answer arrives
        assignment = session.get(Assignment, ("b1-p0", "ann-1"), with_for_update=True)
        assert assignment is not None
        assignment.skipped = True
        count_done_in(session, "ann-1", "b1")
        session.flush()
        waiting.start()
        time.sleep(0.3)  # the submit is waiting for the row (PostgreSQL) or the lock
        assert results == []
    waiting.join()
    assert results == [True]
    counts = _counts(filled)
    assert counts == _recount(filled) and counts[("ann-1", "b1")] == (9, 1)

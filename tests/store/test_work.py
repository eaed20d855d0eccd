"""`annotator_work`: one read transaction agrees with the queue, progress and ranking reads."""

from __future__ import annotations

from dataclasses import replace

import pytest

from robopref.errors import InputError
from robopref.store import (
    Store,
    annotator_work,
    assignment_progress,
    next_assignment,
    rankings_waiting,
    scored_batch_ids,
    skip_assignment,
    upcoming_assignments,
)
from robopref.types import BatchKind

ALL = tuple(BatchKind)


def test_snapshot_matches_the_separate_reads_and_marks_only_the_first_shown(
        filled: Store) -> None:
    skip_assignment(filled, "ann-1", "b1-p1")
    expected_next = next_assignment(filled, "ann-1", kinds=ALL, mark_shown=False)
    expected_later = upcoming_assignments(filled, "ann-1", k=3, kinds=ALL)
    work = annotator_work(filled, "ann-1", kinds_for=lambda certified: ALL, upcoming=3)
    assert expected_next is not None and work.queue[0].shown_at is not None
    assert work.queue[0] == replace(expected_next, shown_at=work.queue[0].shown_at)
    assert list(work.queue[1:]) == expected_later
    assert [q.remaining for q in work.queue] == [expected_next.remaining - n for n in range(4)]
    total = assignment_progress(filled, "ann-1", kinds=ALL)
    assert sum(p.done for p in work.progress_by_batch.values()) == total.done == 1
    assert sum(p.assigned for p in work.progress_by_batch.values()) == total.assigned
    assert work.rankings_waiting == rankings_waiting(filled, "ann-1")
    assert work.scored_batch_ids == tuple(scored_batch_ids(filled, "ann-1"))
    assert not work.certified
    again = annotator_work(filled, "ann-1", kinds_for=lambda certified: ALL, upcoming=0)
    assert again.queue == (work.queue[0],)  # shown once: the first showing's time stays
    assert upcoming_assignments(filled, "ann-1", k=1, kinds=ALL)[0].shown_at is None


def test_kinds_follow_certification_and_bad_input_is_refused(filled: Store) -> None:
    seen: list[bool] = []

    def calibration_only(certified: bool) -> tuple[BatchKind, ...]:
        seen.append(certified)
        return (BatchKind.CALIBRATION,)

    work = annotator_work(filled, "ann-1", kinds_for=calibration_only)
    # PostgreSQL asks for both answers and picks inside its one statement
    assert seen in ([False], [True, False]) and work.queue == () and work.progress_by_batch == {}
    with pytest.raises(InputError, match="k"):
        annotator_work(filled, "ann-1", kinds_for=lambda c: ALL, upcoming=99)

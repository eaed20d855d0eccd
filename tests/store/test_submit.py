"""Submitting annotations: idempotency, refusals, malformed input, the queue."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pyarrow as pa
import pytest

from robopref.errors import InputError
from robopref.schemas import ANNOTATIONS_SCHEMA
from robopref.store import (
    AlreadyAnnotatedError,
    NotAssignedError,
    Store,
    Submission,
    annotations_frame,
    assignments_frame,
    count_annotations,
    next_assignment,
    skip_assignment,
    submit_annotation,
)
from robopref.types import Choice


def submission(**changes: object) -> Submission:
    base = Submission(
        annotator_id="ann-1", pair_id="b1-p0", preference=Choice.B, confidence=4,
        response_time_ms=12_500, left_trajectory_id="t00", idempotency_key="k-1",
        free_text_reason="B reaches the target", interface_version="web-1",
        rubric_answers={"success": "B", "collisions": "none", "efficiency": "B"},
        shown_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_submit_stores_every_field_and_exports_the_schema(filled: Store) -> None:
    result = submit_annotation(filled, submission())
    assert result.created
    frame = annotations_frame(filled)
    assert list(frame.columns) == ANNOTATIONS_SCHEMA.names
    row = frame.iloc[0]
    assert (row.annotation_id, row.pair_id, row.preference) == (result.annotation_id, "b1-p0", "B")
    trajectories = (row.trajectory_a_id, row.trajectory_b_id, row.left_trajectory_id)
    assert trajectories == ("t00", "t01", "t00")
    assert (row.confidence, row.response_time_ms, row.batch_id) == (4, 12_500, "b1")
    assert row.rubric_answers == '{"collisions": "none", "efficiency": "B", "success": "B"}'
    assert row.shown_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert row.created_at.tzinfo is not None
    table = pa.Table.from_pandas(frame, schema=ANNOTATIONS_SCHEMA, preserve_index=False)
    assert table.num_rows == 1


def test_retried_key_returns_the_original_and_writes_nothing(filled: Store) -> None:
    first = submit_annotation(filled, submission())
    again = submit_annotation(filled, submission(confidence=1, preference="A"))
    assert (again.annotation_id, again.created) == (first.annotation_id, False)
    frame = annotations_frame(filled)
    assert len(frame) == 1 and frame.iloc[0].preference == "B"


def test_same_key_from_two_annotators_are_two_annotations(filled: Store) -> None:
    a = submit_annotation(filled, submission())
    b = submit_annotation(filled, submission(annotator_id="ann-2", left_trajectory_id="t01"))
    assert a.annotation_id != b.annotation_id and a.created and b.created
    assert count_annotations(filled) == 2


def test_unassigned_pair_is_refused(filled: Store) -> None:
    with pytest.raises(NotAssignedError, match="not assigned to annotator 'ann-9'"):
        submit_annotation(filled, submission(annotator_id="ann-9"))
    with pytest.raises(NotAssignedError) as info:
        submit_annotation(filled, submission(pair_id="nope"))
    assert info.value.field == "pair_id"
    assert count_annotations(filled) == 0


def test_second_answer_under_a_new_key_is_refused(filled: Store) -> None:
    submit_annotation(filled, submission())
    with pytest.raises(AlreadyAnnotatedError, match="already answered"):
        submit_annotation(filled, submission(idempotency_key="k-2"))
    assert count_annotations(filled) == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"confidence": 0}, "confidence"),
        ({"confidence": 6}, "confidence"),
        ({"confidence": 3.5}, "confidence"),
        ({"confidence": True}, "confidence"),
        ({"preference": "left"}, "preference"),
        ({"preference": None}, "preference"),
        ({"response_time_ms": -1}, "response_time_ms"),
        ({"idempotency_key": ""}, "idempotency_key"),
        ({"left_trajectory_id": "t05"}, "left_trajectory_id"),
        ({"rubric_answers": {"vibes": 3}}, "rubric_answers"),
        ({"rubric_answers": {"success": [1]}}, "rubric_answers"),
        ({"free_text_reason": "x" * 5000}, "free_text_reason"),
        ({"shown_at": datetime(2026, 1, 1)}, "shown_at"),
    ],
)
def test_malformed_submission_names_the_field_and_writes_nothing(
    filled: Store, change: dict[str, object], field: str
) -> None:
    with pytest.raises(InputError) as info:
        submit_annotation(filled, submission(**change))
    assert info.value.field == field
    assert count_annotations(filled) == 0
    done = assignments_frame(filled, "b1")
    assert not done["completed"].any()


def test_next_assignment_walks_the_queue_in_order_and_hides_answers(filled: Store) -> None:
    first = next_assignment(filled, "ann-1")
    assert first is not None and first.pair_id == "b1-p0" and first.remaining == 9
    assert {first.left_trajectory_id, first.right_trajectory_id} == {"t00", "t01"}
    assert first.left_clip_path == f"clips/{first.left_trajectory_id}.mp4"
    assert first.shown_at is not None
    assert not hasattr(first, "expected_preference") and not hasattr(first, "kind")
    again = next_assignment(filled, "ann-1")
    assert again is not None and again.shown_at == first.shown_at
    submit_annotation(filled, submission(left_trajectory_id=first.left_trajectory_id,
                                         shown_at=None))
    skip_assignment(filled, "ann-1", "b1-p1")
    nxt = next_assignment(filled, "ann-1")
    assert nxt is not None and nxt.pair_id == "b1-p2" and nxt.remaining == 7
    stored = annotations_frame(filled).iloc[0]
    assert stored.shown_at == first.shown_at


def test_queue_is_empty_for_unknown_annotator_and_closed_batches(filled: Store) -> None:
    from robopref.store import set_batch_status

    assert next_assignment(filled, "nobody") is None
    set_batch_status(filled, "b1", "closed")
    assert next_assignment(filled, "ann-1") is None
    with pytest.raises(InputError, match="status"):
        set_batch_status(filled, "b1", "paused")

"""Text entering the store: SQLite and PostgreSQL accept and refuse the same values.

PostgreSQL refuses NUL in text (SQLite stores it), neither takes a lone surrogate, and only
PostgreSQL enforces VARCHAR lengths: every test here runs on both backends and expects the
same `InputError` naming the field, with nothing written.
"""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from robopref.errors import InputError
from robopref.pairs.records import AssignmentSpec, RankingSetSpec
from robopref.schemas import MAX_ID_CHARS, id_problem
from robopref.store import (
    RankingSubmission,
    Store,
    Submission,
    add_annotator,
    annotations_frame,
    annotator_for_token,
    batch_ids,
    count_annotations,
    create_batch,
    next_assignment,
    set_batch_status,
    skip_assignment,
    submit_annotation,
    submit_ranking,
    sync_trajectories,
    trajectories_frame,
)
from robopref.types import Choice

from .conftest import make_batch, make_manifest

HOSTILE = {
    "nul": "a\x00b",
    "surrogate": "a\ud800b",
    "escape": "a\x1b[31mb",
    "long_id": "x" * (MAX_ID_CHARS + 1),
}


def submission(**changes: object) -> Submission:
    base = Submission(
        annotator_id="ann-1", pair_id="b1-p0", preference=Choice.A, confidence=3,
        response_time_ms=9000, left_trajectory_id="t00", idempotency_key="k-1",
    )  # fmt: skip
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("free_text_reason", "hit the cup\x00"),
        ("free_text_reason", "bad \ud83d half of an emoji"),
        ("free_text_reason", "y" * 4001),
        ("free_text_reason", "bell\x07"),
        ("annotator_id", HOSTILE["nul"]),
        ("annotator_id", " ann-1"),
        ("pair_id", HOSTILE["long_id"]),
        ("left_trajectory_id", HOSTILE["surrogate"]),
        ("idempotency_key", HOSTILE["escape"]),
        ("idempotency_key", ""),
        ("interface_version", "v" * 65),
        ("rubric_answers", {"success": "B\x00"}),
        ("rubric_answers", {"safety": "\udfff"}),
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) < 20 and v.isidentifier() else None,
)
def test_a_submission_with_text_no_backend_can_hold_is_refused_on_both(
    filled: Store, field: str, value: object
) -> None:
    with pytest.raises(InputError) as info:
        submit_annotation(filled, submission(**{field: value}))
    assert info.value.field == field
    assert "\x00" not in str(info.value) and "\x1b" not in str(info.value)
    assert count_annotations(filled) == 0


def test_free_text_both_backends_accept_comes_back_unchanged(filled: Store) -> None:
    reason = "B wins:\n\tno collision, é, 中文, 🤖, \u2028 and a\rcarriage return"
    rubric = {"success": "B ✓", "naturalness": "smooth\nenough"}
    submit_annotation(filled, submission(free_text_reason=reason, rubric_answers=rubric))
    row = annotations_frame(filled).iloc[0]
    assert row.free_text_reason == reason
    assert "\\u2713" in row.rubric_answers or "✓" in row.rubric_answers


@pytest.mark.parametrize("label", sorted(HOSTILE))
def test_lookups_with_hostile_ids_are_refused_alike(filled: Store, label: str) -> None:
    value = HOSTILE[label]
    calls = [
        (lambda: next_assignment(filled, value), "annotator_id"),
        (lambda: skip_assignment(filled, "ann-1", value), "pair_id"),
        (lambda: set_batch_status(filled, value, "closed"), "batch_id"),
        (lambda: add_annotator(filled, value), "annotator_id"),
    ]
    for call, field in calls:
        with pytest.raises(InputError) as info:
            call()
        assert info.value.field == field
    assert annotator_for_token(filled, value) is None


def _batch_with_pair(**changes: object) -> object:
    batch = make_batch("b2")
    first = dataclasses.replace(batch.pairs[0], **changes)  # type: ignore[arg-type]
    assignment = AssignmentSpec(
        pair_id=first.pair_id, annotator_id="ann-1", left_trajectory_id=first.trajectory_a_id
    )
    return dataclasses.replace(batch, pairs=(first,), assignments=(assignment,), ranking_sets=())


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"pair_id": "p\x00"}, "pair_id"),
        ({"pair_id": "p" * 129}, "pair_id"),
        ({"task": "reach\x00"}, "task"),
        ({"task": "r" * 4001}, "task"),
    ],
    ids=["pair_id-nul", "pair_id-long", "task-nul", "task-long"],
)
def test_a_batch_with_bad_text_is_refused_and_nothing_stored(
    filled: Store, changes: dict[str, object], field: str
) -> None:
    with pytest.raises(InputError) as info:
        create_batch(filled, _batch_with_pair(**changes))  # type: ignore[arg-type]
    assert info.value.field == field
    assert batch_ids(filled) == ["b1"]


def test_a_ranking_set_or_annotator_id_with_nul_is_refused(filled: Store) -> None:
    batch = make_batch("b3")
    ranking = RankingSetSpec(ranking_set_id="b3-r\x00", task="t", trajectory_ids=("t00", "t01"),
                             annotator_ids=("ann-1",))  # fmt: skip
    with pytest.raises(InputError) as info:
        create_batch(filled, dataclasses.replace(batch, ranking_sets=(ranking,)))
    assert info.value.field == "ranking_set_id"
    pairs = (dataclasses.replace(batch.pairs[0], pair_id="b3-p0"),)
    bad = AssignmentSpec(pair_id="b3-p0", annotator_id="ann\ud800", left_trajectory_id="t00")
    with pytest.raises(InputError) as info:
        create_batch(filled, dataclasses.replace(batch, pairs=pairs, assignments=(bad,),
                                                 ranking_sets=()))  # fmt: skip
    assert info.value.field == "annotator_id"
    assert batch_ids(filled) == ["b1"]


def test_a_ranking_with_a_hostile_key_is_refused(filled: Store) -> None:
    ranking = RankingSubmission(
        annotator_id="ann-1", ranking_set_id="b1-r1", trajectory_ids=("t00", "t02"),
        response_time_ms=100, idempotency_key="key\x00",
    )  # fmt: skip
    with pytest.raises(InputError) as info:
        submit_ranking(filled, ranking)
    assert info.value.field == "idempotency_key"


def test_a_manifest_task_with_nul_is_refused_naming_the_row(store: Store) -> None:
    manifest = make_manifest()
    manifest.loc[5, "task"] = "reach\x00"
    with pytest.raises(InputError) as info:
        sync_trajectories(store, manifest)
    assert (info.value.path, info.value.field) == ("manifest row 6", "task")
    assert trajectories_frame(store).empty


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(annotator_id=st.text(max_size=140))
def test_an_annotator_id_is_stored_exactly_when_it_is_an_acceptable_id(
    store: Store, annotator_id: str
) -> None:
    seen = _seen.setdefault(str(store.engine.url), set())
    assume(annotator_id not in seen)
    seen.add(annotator_id)
    if id_problem(annotator_id) is None:
        assert add_annotator(store, annotator_id)
    else:
        with pytest.raises(InputError) as info:
            add_annotator(store, annotator_id)
        assert info.value.field == "annotator_id"


_seen: dict[str, set[str]] = {}
"""Ids already added, per database (hypothesis reuses the store between examples)."""



SUBMISSION_FIELDS = [f.name for f in dataclasses.fields(Submission)]
any_value = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=200),
    st.dictionaries(st.text(max_size=12), st.text(max_size=5) | st.floats(), max_size=3),
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(field=st.sampled_from(SUBMISSION_FIELDS), value=any_value)
def test_submission_validate_accepts_or_names_the_field_for_any_value(
    field: str, value: object
) -> None:
    """The record validator never fails with anything but an InputError naming the field."""
    try:
        submission(**{field: value}).validate()
    except InputError as exc:
        assert exc.field == field, exc

"""Deferred first showings: written with the next submit's commit, or flushed on their own."""

from __future__ import annotations

import time
from datetime import datetime

import pandas as pd
import pytest

from robopref.store import (
    AlreadyAnnotatedError,
    Store,
    Submission,
    annotations_frame,
    assignments_frame,
    next_assignment,
    open_store,
    submit_annotation,
)
from robopref.store import shown as shown_module
from robopref.store.shown import defer_shown, flush_shown
from robopref.types import Choice


def _stored_shown(store: Store, pair_id: str, annotator: str = "ann-1") -> datetime | None:
    frame = assignments_frame(store).set_index(["pair_id", "annotator_id"])
    value = frame.loc[(pair_id, annotator)].shown_at
    return None if pd.isna(value) else value.to_pydatetime()


def _answer(store: Store, pair_id: str, left: str, key: str) -> bool:
    return submit_annotation(store, Submission(
        annotator_id="ann-1", pair_id=pair_id, preference=Choice.A, confidence=3,
        response_time_ms=4000, left_trajectory_id=left, idempotency_key=key)).created


def test_a_deferred_showing_is_written_with_the_answer(filled: Store) -> None:
    defer_shown(filled)
    item = next_assignment(filled, "ann-1")
    assert item is not None and item.shown_at is not None
    assert _stored_shown(filled, item.pair_id) is None  # no commit of its own
    again = next_assignment(filled, "ann-1")  # shown again: the first time stays
    assert again is not None and again.shown_at == item.shown_at
    theirs = next_assignment(filled, "ann-2")
    assert theirs is not None
    assert _answer(filled, item.pair_id, item.left_trajectory_id, "k1")
    row = annotations_frame(filled).iloc[0]
    assert row.shown_at.to_pydatetime() == item.shown_at == _stored_shown(filled, item.pair_id)
    assert _stored_shown(filled, theirs.pair_id, "ann-2") is None  # waits for ann-2's submit
    flush_shown(filled)
    assert _stored_shown(filled, theirs.pair_id, "ann-2") == theirs.shown_at


def test_a_failed_submit_leaves_the_showing_for_the_next_commit(filled: Store) -> None:
    defer_shown(filled)
    first = next_assignment(filled, "ann-1")
    assert first is not None and _answer(filled, first.pair_id, first.left_trajectory_id, "k1")
    second = next_assignment(filled, "ann-1")
    assert second is not None
    with pytest.raises(AlreadyAnnotatedError):  # rolled back, with the showing in it
        _answer(filled, first.pair_id, first.left_trajectory_id, "another-key")
    assert _stored_shown(filled, second.pair_id) is None
    flush_shown(filled)
    assert _stored_shown(filled, second.pair_id) == second.shown_at


def test_showings_no_submit_takes_are_flushed_soon(
        filled: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shown_module, "FLUSH_S", 0.05)
    defer_shown(filled)
    item = next_assignment(filled, "ann-1")
    assert item is not None
    deadline = time.monotonic() + 10
    while _stored_shown(filled, item.pair_id) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _stored_shown(filled, item.pair_id) == item.shown_at


def test_an_answer_stored_by_another_process_gets_the_showing(filled: Store) -> None:
    defer_shown(filled)
    item = next_assignment(filled, "ann-1")
    assert item is not None
    other = open_store(filled.url, upgrade=False)  # another worker, which did not show it
    try:
        assert _answer(other, item.pair_id, item.left_trajectory_id, "k1")
    finally:
        other.dispose()
    assert pd.isna(annotations_frame(filled).iloc[0].shown_at)  # that worker had no showing
    flush_shown(filled)
    assert annotations_frame(filled).iloc[0].shown_at.to_pydatetime() == item.shown_at
    assert _stored_shown(filled, item.pair_id) == item.shown_at


def test_a_retry_reaching_the_showing_worker_fills_the_answer_at_once(filled: Store) -> None:
    defer_shown(filled)
    item = next_assignment(filled, "ann-1")
    assert item is not None
    other = open_store(filled.url, upgrade=False)  # the first try reached another worker
    try:
        assert _answer(other, item.pair_id, item.left_trajectory_id, "k1")
    finally:
        other.dispose()
    assert not _answer(filled, item.pair_id, item.left_trajectory_id, "k1")  # the retry
    assert annotations_frame(filled).iloc[0].shown_at.to_pydatetime() == item.shown_at

"""Annotators, tokens, certification, trajectory sync, batches and frames."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest
from tests.store.conftest import make_batch, make_manifest

from robopref.errors import InputError
from robopref.store import (
    Role,
    Store,
    add_annotator,
    annotator_for_token,
    assignments_frame,
    batch_annotator_ids,
    certification_history,
    create_batch,
    is_certified,
    issue_token,
    pairs_frame,
    record_certification,
    sync_trajectories,
    trajectories_frame,
)


def test_token_is_returned_once_and_only_its_hash_is_stored(store: Store) -> None:
    token = add_annotator(store, "lead", Role.ADMIN)
    assert annotator_for_token(store, token) == ("lead", Role.ADMIN)
    assert annotator_for_token(store, token + "x") is None
    with store.engine.connect() as connection:
        stored = connection.exec_driver_sql("SELECT token_hash FROM annotators").scalar()
    assert stored != token and len(stored) == 64
    with pytest.raises(InputError, match="already exists"):
        add_annotator(store, "lead")
    new = issue_token(store, "lead")
    assert annotator_for_token(store, token) is None
    assert annotator_for_token(store, new) == ("lead", Role.ADMIN)
    with pytest.raises(InputError) as info:
        add_annotator(store, "x", "boss")
    assert info.value.field == "role"


def test_certification_history_keeps_every_attempt_and_latest_verdict(filled: Store) -> None:
    record_certification(filled, annotator_id="ann-1", calibration_batch_id="b1",
                         kappa=0.41, passed=False)
    assert not is_certified(filled, "ann-1")
    record_certification(filled, annotator_id="ann-1", calibration_batch_id="b1",
                         kappa=0.78, passed=True)
    assert is_certified(filled, "ann-1")
    history = certification_history(filled, "ann-1")
    assert history["kappa"].tolist() == [0.41, 0.78]
    assert history["passed"].tolist() == [False, True]
    assert history["at"].is_monotonic_increasing
    assert certification_history(filled, "ann-2").empty
    with pytest.raises(InputError) as info:
        record_certification(filled, annotator_id="ann-1", calibration_batch_id="b1",
                             kappa=1.5, passed=True)
    assert info.value.field == "kappa"


def test_sync_from_a_pool_manifest_upserts(store: Store, tiny_pool: Callable[..., object]) -> None:
    pool = tiny_pool(n=6, frame_size=None)
    manifest: pd.DataFrame = pool.manifest  # type: ignore[attr-defined]
    assert sync_trajectories(store, manifest) == 6
    got = trajectories_frame(store)
    assert got["trajectory_id"].tolist() == sorted(manifest["trajectory_id"])
    expected = manifest.set_index("trajectory_id")["quality_score"]
    assert got.set_index("trajectory_id")["quality_score"].to_dict() == pytest.approx(
        expected.to_dict())
    changed = manifest.assign(clip_path="clips/x.mp4", quartile=1)
    assert sync_trajectories(store, changed) == 6
    again = trajectories_frame(store)
    assert len(again) == 6 and set(again["clip_path"]) == {"clips/x.mp4"}
    with pytest.raises(InputError) as info:
        sync_trajectories(store, manifest.drop(columns=["quality_score"]))
    assert info.value.field == "quality_score"


def test_batch_round_trips_its_pairs_and_assignments(filled: Store) -> None:
    batch = make_batch()
    stored = pairs_frame(filled, "b1").sort_values("pair_id").reset_index(drop=True)
    expected = batch.pairs_frame().sort_values("pair_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(stored, expected, check_dtype=False)
    assignments = assignments_frame(filled, "b1")
    mine = assignments[assignments.annotator_id == "ann-2"]
    assert mine["position"].tolist() == list(range(len(batch.pairs)))
    assert len(assignments) == len(batch.assignments)
    assert batch_annotator_ids(filled, "b1") == ["ann-1", "ann-2", "ann-3"]


def test_bad_batches_are_refused_whole(filled: Store) -> None:
    with pytest.raises(InputError, match="already exists"):
        create_batch(filled, make_batch("b1"))
    with pytest.raises(InputError, match="not synced"):
        create_batch(filled, make_batch("b3", n=12))
    assert pairs_frame(filled, "b3").empty
    assert set(pairs_frame(filled)["batch_id"]) == {"b1"}
    with pytest.raises(InputError, match="no such batch"):
        batch_annotator_ids(filled, "b3")


def test_frames_of_an_empty_store_have_their_columns(store: Store) -> None:
    from robopref.pairs.records import PAIR_COLUMNS
    from robopref.schemas import ANNOTATIONS_SCHEMA
    from robopref.store import annotations_frame

    assert list(pairs_frame(store).columns) == list(PAIR_COLUMNS)
    assert list(annotations_frame(store).columns) == ANNOTATIONS_SCHEMA.names
    sync_trajectories(store, make_manifest())
    assert len(trajectories_frame(store)) == 8


def test_batch_rubric_and_pair_rationale_are_stored(store: Store) -> None:
    from dataclasses import replace

    from robopref.store import load_batch

    sync_trajectories(store, make_manifest())
    batch = make_batch()
    pairs = (replace(batch.pairs[0], rationale="The better clip reaches the target."),
             *batch.pairs[1:])
    create_batch(store, replace(batch, pairs=pairs, rubric=True))
    create_batch(store, make_batch("b2"))
    loaded, plain = load_batch(store, "b1"), load_batch(store, "b2")
    by_id = {p.pair_id: p for p in loaded.pairs}
    assert (loaded.rubric, plain.rubric) == (True, False)
    assert by_id["b1-p0"].rationale == "The better clip reaches the target."
    assert by_id["b1-p1"].rationale is None
    assert "rationale" not in pairs_frame(store).columns  # PAIR_COLUMNS unchanged

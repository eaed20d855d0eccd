"""Adding assignments to a stored batch (calibration retests)."""

import pytest

from robopref.errors import InputError
from robopref.pairs.records import AssignmentSpec
from robopref.store import add_assignments, assignments_frame, create_batch, sync_trajectories

from .conftest import make_batch, make_manifest


def test_new_annotator_gets_assignments_after_existing_ones(store):
    sync_trajectories(store, make_manifest())
    batch = make_batch(annotators=("ann-1",))
    create_batch(store, batch)
    extra = tuple(
        AssignmentSpec(
            pair_id=p.pair_id, annotator_id="ann-9", left_trajectory_id=p.trajectory_a_id
        )
        for p in batch.pairs[:2]
    )
    assert add_assignments(store, batch.batch_id, extra) == 2
    frame = assignments_frame(store, batch.batch_id)
    mine = frame[frame["annotator_id"] == "ann-9"]
    assert sorted(mine["pair_id"]) == sorted(p.pair_id for p in batch.pairs[:2])


def test_bad_additions_write_nothing(store):
    sync_trajectories(store, make_manifest())
    batch = make_batch(annotators=("ann-1",))
    create_batch(store, batch)
    before = len(assignments_frame(store, batch.batch_id))
    p = batch.pairs[0]
    again = (
        AssignmentSpec(
            pair_id=p.pair_id, annotator_id="ann-1", left_trajectory_id=p.trajectory_a_id
        ),
    )
    with pytest.raises(InputError, match="already assigned"):
        add_assignments(store, batch.batch_id, again)
    outside = (
        AssignmentSpec(pair_id="nope", annotator_id="ann-2", left_trajectory_id=p.trajectory_a_id),
    )
    with pytest.raises(InputError, match="not in batch"):
        add_assignments(store, batch.batch_id, outside)
    with pytest.raises(InputError, match="no such batch"):
        add_assignments(store, "missing", again)
    assert len(assignments_frame(store, batch.batch_id)) == before

"""The transfer labeler: another model's Bradley–Terry preference as an AI label."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from tests.teachers.conftest import ANNOTATORS, seed_store

from robopref.errors import InputError
from robopref.pool import Pool
from robopref.scoring import TableScorer, bradley_terry
from robopref.store import Store, annotations_frame, assignments_frame
from robopref.teachers import (
    Labeler,
    PairView,
    TransferLabeler,
    TransferLabelerConfig,
    ai_label_table,
    confidence_from_p,
    label_batch,
)


def _view(a: str, b: str) -> PairView:
    return PairView(pair_id=f"{a}|{b}", trajectory_a_id=a, trajectory_b_id=b, left_trajectory_id=b)


def test_answers_follow_the_models_preference_with_a_dead_zone(rewarded: Pool) -> None:
    ids = rewarded.manifest["trajectory_id"].tolist()
    rewards = {t: 0.25 * i for i, t in enumerate(ids)}  # a model that ranks by row order
    rewards[ids[1]] = rewards[ids[0]] + 0.1  # P = σ(0.1) = 0.525: inside the dead zone
    labeler = TransferLabeler(TableScorer(rewards), rewarded)
    assert isinstance(labeler, Labeler)
    views = [_view(a, b) for a, b in zip(ids[:-3], ids[3:], strict=True)] + [_view(ids[8], ids[0])]
    labels = ai_label_table(labeler, [_view(ids[1], ids[0]), *views], seed=0)
    assert labels["pair_id"].tolist() == [v.pair_id for v in views]  # the first abstained
    expected = bradley_terry(np.array([rewards[v.trajectory_a_id] for v in views]),
                             np.array([rewards[v.trajectory_b_id] for v in views]))  # fmt: skip
    np.testing.assert_allclose(labels["p_a"], expected)
    assert (labels["preference"] == np.where(expected > 0.5, "A", "B")).all()
    assert labels["confidence"].tolist() == [confidence_from_p(p) for p in expected]
    assert labels["confidence"].iloc[-1] == 4 and labels["confidence"].iloc[0] == 2  # σ(2), σ(−.75)
    wide = TransferLabeler(TableScorer(rewards), rewarded,
                           config=TransferLabelerConfig(dead_zone=0.2))  # fmt: skip
    outside = [v.pair_id for v, p in zip(views, expected, strict=True) if abs(p - 0.5) >= 0.2]
    assert ai_label_table(wide, views, seed=0)["pair_id"].tolist() == outside
    assert 1 <= len(outside) < len(views)


def test_provenance_carries_version_and_weights_digest(store: Store, rewarded: Pool) -> None:
    digest = hashlib.sha256(b"model.safetensors bytes").hexdigest()
    rewards = dict(zip(rewarded.manifest["trajectory_id"], rewarded.manifest["true_return"],
                       strict=True))  # fmt: skip
    labeler = TransferLabeler(TableScorer(rewards), rewarded, annotator_id=ANNOTATORS[1],
                              version="push-run3", weights_digest=digest)  # fmt: skip
    assert labeler.provenance.interface_version == f"ai:transfer/push-run3@{digest[:12]}"
    batch_id = seed_store(store, rewarded.manifest)
    created = label_batch(store, batch_id, labeler, seed=0)
    stored = annotations_frame(store, batch_id)
    mine = assignments_frame(store, batch_id).query("annotator_id == @ANNOTATORS[1]")
    assert created == len(stored) == mine["completed"].sum() > 0
    assert set(stored["interface_version"]) == {labeler.provenance.interface_version}
    with pytest.raises(ValueError, match="version"):
        TransferLabeler(TableScorer(rewards), rewarded, version="Not A Version")


def test_refuses_trajectories_it_cannot_read(rewarded: Pool) -> None:
    labeler = TransferLabeler(TableScorer({"x": 1.0}), rewarded)
    with pytest.raises(InputError) as info:
        labeler.check_trajectories(["x", "missing"])
    assert info.value.field == "trajectory_id" and "missing" in info.value.message
    with pytest.raises(ValueError, match="dead_zone"):
        TransferLabelerConfig(dead_zone=0.5)

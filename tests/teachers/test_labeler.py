"""The Labeler protocol and label_batch: simulated people store exactly what they stored before
labelers existed, and an AI-style labeler stores its provenance, abstains, and answers only its
own assignments."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
from tests.teachers.conftest import ANNOTATORS, seed_store

from robopref.errors import InputError
from robopref.scoring import TableScorer
from robopref.store import Store, assignments_frame, pairs_frame
from robopref.store.models import Annotation
from robopref.teachers import (
    SIMULATED,
    Answer,
    GroundTruth,
    Labeler,
    PairView,
    Provenance,
    SimulatedAnnotator,
    SimulatedLabeler,
    cast_roster,
    is_ai_label,
    label_batch,
    pair_view,
    parse_roster,
    simulate_answer,
    simulated_labelers,
    truth_from_frame,
)
from robopref.types import Choice, PairKind

ROSTER = "mistake:1,stochastic+inconsistent:1,speeder:1,left-clicker:1,skip:1"

GOLDEN_ANNOTATIONS = (76, "cee4a3816c8e59019bfa18702e7603c3d50db9c429a9ce433ffb589476b3798c")
GOLDEN_ASSIGNMENTS = (78, "8db31e23737d1e14ce05837a3b219490dbf1dd3337dbc4c6751ef19857d69ff4")
"""What `teachers.campaign.simulate_batch(store, "b1", cast, truth, seed=3)` stored for
`ROSTER` on this batch (commit ee6afee, the last before `label_batch` replaced it): pair,
annotator, answer, confidence, response time, left side, interface version, idempotency key,
A and B; and each assignment's completed/skipped state."""


def _digest(rows: list[list[Any]]) -> tuple[int, str]:
    return len(rows), hashlib.sha256(json.dumps(rows).encode()).hexdigest()


def stored_annotations(store: Store) -> list[list[Any]]:
    columns = (Annotation.pair_id, Annotation.annotator_id, Annotation.preference,
               Annotation.confidence, Annotation.response_time_ms, Annotation.left_trajectory_id,
               Annotation.interface_version, Annotation.idempotency_key,
               Annotation.trajectory_a_id, Annotation.trajectory_b_id)  # fmt: skip
    with store.engine.connect() as connection:
        rows = [list(r) for r in connection.execute(sa.select(*columns))]
    return sorted(rows, key=lambda r: (r[1], r[0]))


def test_simulated_labelers_store_the_rows_simulate_batch_stored(
    store: Store, manifest: pd.DataFrame
) -> None:
    batch_id = seed_store(store, manifest)
    cast = cast_roster(parse_roster(ROSTER), ANNOTATORS)
    created = label_batch(store, batch_id, simulated_labelers(cast, truth_from_frame(manifest)),
                          seed=3)  # fmt: skip
    annotations = stored_annotations(store)
    assert created == len(annotations)
    assert _digest(annotations) == GOLDEN_ANNOTATIONS
    frame = assignments_frame(store, batch_id)
    state = frame[["pair_id", "annotator_id", "completed", "skipped"]].astype(str).values.tolist()
    assert _digest(sorted(state, key=lambda r: (r[1], r[0]))) == GOLDEN_ASSIGNMENTS
    assert {r[6] for r in annotations} == {"simulated-1"}
    assert all(r[7] == f"sim-3-{r[0]}" for r in annotations)


def test_each_stored_answer_is_the_annotators_simulated_answer(
    store: Store, manifest: pd.DataFrame
) -> None:
    batch_id = seed_store(store, manifest)
    truth = truth_from_frame(manifest)
    cast = {a.annotator_id: a for a in cast_roster(parse_roster(ROSTER), ANNOTATORS)}
    label_batch(store, batch_id, simulated_labelers(list(cast.values()), truth), seed=3)
    pairs = pairs_frame(store, batch_id).set_index("pair_id", drop=False)
    rows = stored_annotations(store)
    for pair_id, who, choice, confidence, rt_ms, left, *_ in rows:
        view = pair_view(pairs.loc[pair_id].to_dict(), left_trajectory_id=left)
        expected = simulate_answer(cast[who], view, truth, seed=3)
        assert expected is not None
        assert (choice, confidence, rt_ms) == (
            expected.preference.value, expected.confidence, expected.response_time_ms)
    assert {pairs.loc[r[0], "kind"] for r in rows} >= {"regular", "duplicate"}


TABLE = Provenance(labeler="table", version="1", is_human=False,
                   weights_digest="0123456789abcdef" * 4)  # fmt: skip


@dataclass(frozen=True)
class _Ref:
    trajectory_id: str


@dataclass(frozen=True, kw_only=True)
class RewardTableLabeler:
    """An AI-style labeler: prefers the higher reward of a table, abstains on near-ties.

    It sees only the view; the rewards are its own (here: the truth turned upside down, so a
    test can tell its answers from the simulated people's).
    """

    annotator_id: str
    scorer: TableScorer
    provenance: Provenance = TABLE
    seen: list[PairView] = field(default_factory=list)

    def check_trajectories(self, trajectory_ids: Collection[str]) -> None:
        self.scorer.score([_Ref(t) for t in trajectory_ids])

    def label(self, pair: PairView, *, seed: int) -> Answer | None:
        self.seen.append(pair)
        p_a = float(self.scorer.prefer([_Ref(pair.trajectory_a_id)],
                                       [_Ref(pair.trajectory_b_id)])[0])  # fmt: skip
        if abs(p_a - 0.5) < 0.01:
            return None
        return Answer(Choice.A if p_a > 0.5 else Choice.B, 3, 40, p_a=p_a)


def test_an_ai_labeler_stores_its_provenance_abstains_and_answers_only_its_own_work(
    store: Store, manifest: pd.DataFrame
) -> None:
    batch_id = seed_store(store, manifest)
    truth = truth_from_frame(manifest)
    upside_down = TableScorer({t: -5.0 * s for t, s in truth.score.items()})
    ai = RewardTableLabeler(annotator_id="a1", scorer=upside_down)
    assert isinstance(ai, Labeler)
    created = label_batch(store, batch_id, ai, seed=7)
    assert label_batch(store, batch_id, [ai], seed=7) == 0  # rerun adds nothing
    frame = assignments_frame(store, batch_id)
    own = frame[frame.annotator_id == "a1"]
    assert own.completed.sum() == created and (own.completed | own.skipped).all()
    assert not frame[frame.annotator_id != "a1"].completed.any()  # others' work stays open
    assert {v.task for v in ai.seen} == set(manifest.task) and {v.kind for v in ai.seen} >= {
        PairKind.REGULAR}
    rows = stored_annotations(store)
    assert {r[6] for r in rows} == {"ai:table/1@0123456789ab"} and is_ai_label(rows[0][6])
    assert all(r[7] == f"ai-table-7-{r[0]}" for r in rows)
    score = truth.score
    assert all((r[2] == "A") == (score[r[8]] < score[r[9]]) for r in rows)  # upside down
    rest = simulated_labelers(cast_roster(parse_roster("oracle:4"), ANNOTATORS[1:]), truth)
    label_batch(store, batch_id, rest, seed=7)
    assert (assignments_frame(store, batch_id)[["completed", "skipped"]].any(axis=1)).all()


def test_label_batch_refuses_before_writing(store: Store, manifest: pd.DataFrame) -> None:
    batch_id = seed_store(store, manifest)
    truth = truth_from_frame(manifest)
    partial = GroundTruth(score=dict(list(truth.score.items())[:4]))
    with pytest.raises(InputError) as info:
        label_batch(store, batch_id, simulated_labelers([SimulatedAnnotator(annotator_id="a1")],
                                                        partial), seed=0)  # fmt: skip
    assert (info.value.path, info.value.field) == (batch_id, "trajectory_id")
    twice = [SimulatedLabeler(annotator=SimulatedAnnotator(annotator_id="a1"), truth=truth)] * 2
    with pytest.raises(InputError) as info:
        label_batch(store, batch_id, twice, seed=0)
    assert info.value.field == "annotators"
    assert not assignments_frame(store, batch_id).completed.any()


def test_provenance_names_and_the_simulated_provenance() -> None:
    assert SIMULATED.is_human and SIMULATED.interface_version == "simulated-1"
    assert SIMULATED.key_prefix == "sim" and not is_ai_label(SIMULATED.interface_version)
    longest = Provenance(labeler="x" * 20, version="y" * 20, is_human=False,
                         weights_digest="f" * 64)  # fmt: skip
    assert len(longest.interface_version) <= 64  # the store's interface_version column
    bads: list[dict[str, Any]] = [{"labeler": "Has Space"}, {"version": ""},
                                  {"weights_digest": "XYZ"}]  # fmt: skip
    for bad in bads:
        with pytest.raises(ValueError):
            Provenance(**{"labeler": "rubric", "version": "1", "is_human": False, **bad})


def test_the_view_carries_no_truth_and_knows_its_sides() -> None:
    row = {"pair_id": "p1", "trajectory_a_id": "t1", "trajectory_b_id": "t2", "kind": "gold",
           "task": "reach", "expected_preference": "A", "quartile_a": 4, "stratum": "distant"}
    view = pair_view(row, left_trajectory_id="t2")
    assert view.right_trajectory_id == "t1" and view.kind is PairKind.GOLD
    assert set(view.__dict__) == {"pair_id", "trajectory_a_id", "trajectory_b_id",
                                  "left_trajectory_id", "kind", "task"}  # fmt: skip
    with pytest.raises(ValueError):
        PairView(pair_id="p", trajectory_a_id="t1", trajectory_b_id="t2", left_trajectory_id="t3")

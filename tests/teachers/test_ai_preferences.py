"""AI labels as training rows: the preferences contract plus weight and label_source."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from tests.teachers.test_routing import synthetic_labels

from robopref.errors import InputError
from robopref.pool import Pool
from robopref.schemas import PREFERENCES_SCHEMA, PREFERENCES_TABLE
from robopref.tables import check_table, read_table_file
from robopref.teachers import (
    AI_PREFERENCES_SCHEMA,
    Answer,
    PairView,
    Provenance,
    SimulatedAnnotator,
    SimulatedLabeler,
    accuracy_by,
    ai_label_table,
    ai_preference_rows,
    route_labels,
    truth_from_frame,
    write_ai_preferences,
)
from robopref.types import Choice


def test_routed_labels_become_weighted_preferences(tmp_path: Path) -> None:
    labels, p_model, truth = synthetic_labels(300, wrong=0.3)
    routed = route_labels(labels, p_model, truth=truth)
    rows = ai_preference_rows(routed.for_training, weight=0.4)
    assert list(rows.columns) == AI_PREFERENCES_SCHEMA.names
    assert list(rows.columns)[: len(PREFERENCES_SCHEMA)] == PREFERENCES_SCHEMA.names
    check_table(rows, PREFERENCES_TABLE, origin="ai preferences")  # the contract's rules hold
    assert len(rows) == len(routed.for_training)
    assert (rows["weight"] == 0.4).all() and (rows["label_source"] == "ai:rubric").all()
    assert rows["annotator_ids"].map(list).tolist() == [["ai-rubric"]] * len(rows)
    a_wins = rows["trajectory_a_id"].map(truth) > rows["trajectory_b_id"].map(truth)
    trained = ((rows["preference"] == 1.0) == a_wins).mean()
    assert trained == pytest.approx(routed.report.accuracy["trained"])  # flips made it in
    files = write_ai_preferences(rows, tmp_path)
    assert pq.read_schema(files.parquet).names == AI_PREFERENCES_SCHEMA.names
    back = read_table_file(files.jsonl, PREFERENCES_TABLE)
    assert back["pair_id"].tolist() == rows["pair_id"].tolist()
    assert back["weight"].tolist() == rows["weight"].tolist()


def test_bad_rows_are_refused_naming_the_field(tmp_path: Path) -> None:
    labels, _, _ = synthetic_labels(5, wrong=0.0)
    with pytest.raises(InputError, match="weight"):
        ai_preference_rows(labels, weight=-1.0)
    with pytest.raises(InputError) as info:
        ai_preference_rows(pd.concat([labels, labels.iloc[:1]]))
    assert info.value.field == "pair_id"
    with pytest.raises(InputError) as info:
        ai_preference_rows(labels.drop(columns="label_source"))
    assert info.value.field == "label_source"
    empty = write_ai_preferences(ai_preference_rows(labels.iloc[:0]), tmp_path)
    assert pq.read_table(empty.parquet).schema.names == AI_PREFERENCES_SCHEMA.names


def test_label_table_refuses_simulated_people_and_keeps_answers_without_p(
    rewarded: Pool,
) -> None:
    truth = truth_from_frame(rewarded.manifest)
    person = SimulatedLabeler(annotator=SimulatedAnnotator(annotator_id="h1"), truth=truth)
    view = PairView(pair_id="p", trajectory_a_id="rw-0-000", trajectory_b_id="rw-0-001",
                    left_trajectory_id="rw-0-000")  # fmt: skip
    with pytest.raises(InputError, match="not an AI labeler"):
        ai_label_table(person, [view], seed=0)

    class Plain:  # an AI labeler that gives no probability of its own
        annotator_id = "ai-plain"
        provenance = Provenance(labeler="plain", version="1", is_human=False)

        def check_trajectories(self, ids: object) -> None:
            """Judges anything."""

        def label(self, pair: PairView, *, seed: int) -> Answer | None:
            return Answer(Choice.EQUAL if pair.pair_id == "p" else Choice.B, 3, 10)

    table = ai_label_table(Plain(), [view, PairView(pair_id="q", trajectory_a_id="a",
                           trajectory_b_id="b", left_trajectory_id="b")], seed=0)  # fmt: skip
    assert table["p_a"].tolist() == [0.5, 0.0]
    assert ai_preference_rows(table)["preference"].tolist() == [0.5, 0.0]
    assert accuracy_by(table.assign(stratum=["same", "far"]), {"rw-0-000": 1.0, "rw-0-001": 0.0,
                       "a": 0.0, "b": 1.0}, "stratum")["accuracy"].to_dict() == {
        "far": 1.0, "same": 0.0}  # an equal counts as wrong  # fmt: skip

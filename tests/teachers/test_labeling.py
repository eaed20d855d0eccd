"""Labelers (simulated annotators, an AI-style labeler) answering a real batch in the store
(SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from tests.teachers.conftest import ANNOTATORS, seed_store
from typer.testing import CliRunner

from robopref.errors import InputError
from robopref.schemas import ANNOTATIONS_SCHEMA
from robopref.store import (
    Store,
    annotations_frame,
    assignments_frame,
    open_store,
    pairs_frame,
)
from robopref.teachers import (
    cast_roster,
    label_batch,
    parse_roster,
    simulated_labelers,
    truth_from_frame,
    truth_from_pool,
)


def test_roster_answers_every_assignment_once_and_traits_show(
    store: Store, manifest: pd.DataFrame
) -> None:
    batch_id = seed_store(store, manifest)
    cast = cast_roster(parse_roster("oracle:3,speeder:1,left-clicker:1"), ANNOTATORS)
    assert [a.label for a in cast] == ["oracle+careful"] * 3 + ["oracle+speeder",
                                                                "oracle+left-clicker"]
    truth = truth_from_frame(manifest)
    labelers = simulated_labelers(cast, truth)
    created = label_batch(store, batch_id, labelers, seed=0)
    assignments = assignments_frame(store, batch_id)
    assert created == len(assignments) and assignments["completed"].all()
    assert label_batch(store, batch_id, labelers, seed=0) == 0  # rerun adds nothing
    frame = annotations_frame(store, batch_id)
    assert len(frame) == created
    pa.Table.from_pandas(frame, schema=ANNOTATIONS_SCHEMA, preserve_index=False)
    score = manifest.set_index("trajectory_id")["quality_score"]
    truly = (score[frame.trajectory_a_id].to_numpy() > score[frame.trajectory_b_id].to_numpy())
    frame["right"] = (frame.preference == "A") == truly
    careful = frame[frame.annotator_id.isin(["a1", "a2", "a3"])]
    score_a = score[careful.trajectory_a_id].to_numpy()
    distinct = score_a != score[careful.trajectory_b_id].to_numpy()
    assert careful["right"][distinct].all()
    speeder = frame[frame.annotator_id == "a4"]
    assert (speeder.response_time_ms < 3000).all()
    assert careful.response_time_ms.median() > 10_000
    lefty = frame[frame.annotator_id == "a5"]
    left_side = (lefty.left_trajectory_id == lefty.trajectory_a_id).map({True: "A", False: "B"})
    assert (lefty.preference == left_side).mean() >= 0.75


def test_skip_teacher_marks_skipped_assignments(store: Store, manifest: pd.DataFrame) -> None:
    batch_id = seed_store(store, manifest)
    truth = truth_from_frame(manifest)
    cast = cast_roster(parse_roster("skip:5"), ANNOTATORS)
    created = label_batch(store, batch_id, simulated_labelers(cast, truth), seed=1)
    assignments = assignments_frame(store, batch_id)
    pairs = pairs_frame(store, batch_id).set_index("pair_id")
    low = {t for t, z in truth.score.items() if z <= 0.1 * truth.margin}
    both_low = [pairs.loc[p, "trajectory_a_id"] in low and pairs.loc[p, "trajectory_b_id"] in low
                for p in assignments.pair_id]
    assert assignments.skipped.tolist() == both_low
    assert created == len(assignments) - sum(both_low)


def test_myopic_truth_from_pool_reads_progress(tiny_pool: Callable[..., object]) -> None:
    pool = tiny_pool(n=6, frame_size=None)
    truth = truth_from_pool(pool.root)  # type: ignore[attr-defined]
    assert set(truth.progress) == set(truth.score)
    ids = sorted(truth.score, key=truth.score.__getitem__)
    myopic = [truth.value(t, 0.9) for t in ids]
    assert all(0.0 <= v <= 1.0 for v in myopic)
    assert myopic[-1] > myopic[0] + 0.3  # the best ends much nearer the goal than the worst
    assert min(truth.score.values()) == 0.0 and max(truth.score.values()) == 1.0


def test_roster_errors_name_the_annotators_option() -> None:
    for spec in ("genius:2", "oracle:zero", "oracle:0", ""):
        with pytest.raises(InputError) as info:
            parse_roster(spec)
        assert info.value.field == "annotators"
    with pytest.raises(InputError, match="batch has 5"):
        cast_roster(parse_roster("oracle:3"), ANNOTATORS)
    assert [e["trait"] for e in parse_roster("stochastic+inconsistent:2,speeder")] == [
        "inconsistent", "speeder"]


def test_yaml_roster_can_name_annotators(tmp_path: Path) -> None:
    spec = tmp_path / "roster.yaml"
    spec.write_text("- {annotator_id: a5, teacher: mistake, trait: speeder}\n"
                    "- {teacher: oracle, count: 4}\n")
    cast = cast_roster(parse_roster(str(spec)), ANNOTATORS)
    assert {a.annotator_id: a.label for a in cast}["a5"] == "mistake+speeder"
    assert sum(a.label == "oracle+careful" for a in cast) == 4


def test_cli_simulate_answers_a_batch(tmp_path: Path, manifest: pd.DataFrame) -> None:
    import typer

    from robopref.cli.annotate import annotate_app

    app = typer.Typer()  # registered as in robopref.cli: `robopref annotate simulate`
    app.add_typer(annotate_app, name="annotate")
    url = f"sqlite:///{tmp_path / 'robopref.db'}"
    store = open_store(url)
    seed_store(store, manifest)
    result = CliRunner().invoke(app, [
        "annotate", "simulate", "--db", url, "--batch", "b1", "--seed", "0",
        "--annotators", "oracle:3,speeder:1,left-clicker:1"])
    assert result.exit_code == 0, result.output
    n = len(assignments_frame(store, "b1"))
    assert f"batch b1: {n} new simulated annotations ({n} in the batch)" in result.output
    bad = CliRunner().invoke(app, ["annotate", "simulate", "--db", url, "--batch", "nope"])
    assert isinstance(bad.exception, InputError) and bad.exception.field == "batch_id"
    store.dispose()

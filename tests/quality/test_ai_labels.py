"""AI labels are never counted as people: QA figures and the export ignore them."""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path

import pandas as pd
import pytest

from robopref.pairs import PairsConfig, select_pairs
from robopref.quality import QAConfig, QAResult, ai_label_mask, format_report, run_qa
from robopref.store import Store, annotations_frame, create_batch, pairs_frame, sync_trajectories
from robopref.teachers import (
    Answer,
    PairView,
    Provenance,
    cast_roster,
    label_batch,
    parse_roster,
    simulated_labelers,
    truth_from_frame,
)
from robopref.types import Choice

HUMANS = ("h1", "h2", "h3")
AI = "ai-contrary"


class ContraryLabeler:
    """An AI labeler that always contradicts the ground truth: it would sink alpha and gold."""

    annotator_id = AI
    provenance = Provenance(labeler="contrary", version="1", is_human=False)

    def __init__(self, score: dict[str, float]) -> None:
        self.score = score

    def check_trajectories(self, trajectory_ids: Collection[str]) -> None:
        """Judges any trajectory with a score."""

    def label(self, pair: PairView, *, seed: int) -> Answer | None:
        better_a = self.score[pair.trajectory_a_id] > self.score[pair.trajectory_b_id]
        return Answer(Choice.B if better_a else Choice.A, 5, 4000, p_a=0.0 if better_a else 1.0)


def _qa(store: Store, out: Path) -> QAResult:
    return run_qa(annotations_frame(store), pairs_frame(store), QAConfig(), out_dir=out)


def test_alpha_gold_and_export_unchanged_when_ai_labels_join_the_store(
    store: Store, tiny_pool: Callable[..., object], tmp_path: Path
) -> None:
    manifest = tiny_pool(n=16, frame_size=None).manifest  # type: ignore[attr-defined]
    sync_trajectories(store, manifest)
    config = PairsConfig(batch_size=24, annotators_per_pair=4, duplicate_frac=0.25, seed=0)
    batch = select_pairs(manifest, config, annotator_ids=[*HUMANS, AI], batch_id="b1")
    create_batch(store, batch)
    truth = truth_from_frame(manifest)
    humans = simulated_labelers(cast_roster(parse_roster("oracle:2,mistake:1"), HUMANS), truth)
    label_batch(store, "b1", humans, seed=0)
    before = _qa(store, tmp_path / "before")

    created = label_batch(store, "b1", ContraryLabeler(dict(truth.score)), seed=0)
    assert created > 20
    after = _qa(store, tmp_path / "after")

    s0, s1 = before.report.summary, after.report.summary
    for key in ("alpha", "gold_accuracy", "annotations", "pairs", "annotators", "flagged"):
        assert s1[key] == s0[key], key
    assert s0["ai_labels_excluded"] == 0 and s1["ai_labels_excluded"] == created
    assert AI not in after.report.annotators.index
    pd.testing.assert_frame_equal(after.preferences, before.preferences)
    assert f"{created} AI labels left out" in format_report(after.report)

    # the same answers counted as a person's would have changed the figures
    frame = annotations_frame(store)
    assert ai_label_mask(frame).sum() == created
    as_human = frame.assign(interface_version="simulated-1")
    counted = run_qa(as_human, pairs_frame(store), QAConfig(), out_dir=tmp_path / "counted")
    assert counted.report.summary["alpha"] < s0["alpha"] - 0.1
    assert counted.report.summary["gold_accuracy"] < s0["gold_accuracy"]


@pytest.mark.parametrize(
    ("versions", "expected"),
    [
        (["ai:rubric/1.ab", "simulated-1", None, "ai:vlm/2@abcdef012345", "web-3"],
         [True, False, False, True, False]),
        ([None, None], [False, False]),
        ([], []),
    ],
)  # fmt: skip
def test_ai_label_mask_reads_interface_version(
    versions: list[str | None], expected: list[bool]
) -> None:
    frame = pd.DataFrame({"interface_version": pd.Series(versions, dtype=object)})
    assert ai_label_mask(frame).tolist() == expected
    assert not ai_label_mask(frame.drop(columns="interface_version")).any()

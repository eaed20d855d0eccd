"""The rubric labeler: seed 000's rubric on observable metrics, judged against the simulator."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from tests.teachers.conftest import ANNOTATORS, seed_store

from robopref.errors import InputError
from robopref.pool import Pool, PoolConfig, RubricConfig
from robopref.store import Store, annotations_frame
from robopref.teachers import (
    Labeler,
    PairView,
    RubricLabeler,
    RubricLabelerConfig,
    accuracy_by,
    ai_label_table,
    is_ai_label,
    label_batch,
    truth_from_frame,
)
from robopref.teachers.rubric_labeler import OBSERVABLE_COLUMNS

FORBIDDEN = ("quality_score", "quartile", "tier", "source", "true_return", "disqualified",
             "efficiency_score", "naturalness_score")  # fmt: skip
STRATA = {0: "same", 1: "adjacent"}


def same_task_pairs(manifest: pd.DataFrame) -> list[PairView]:
    """Every same-task pair, A the earlier row (left)."""
    views = []
    for task, rows in manifest.groupby("task"):
        for a, b in itertools.combinations(rows["trajectory_id"], 2):
            pair_id = f"{a}|{b}"
            views.append(PairView(pair_id=pair_id, trajectory_a_id=a, trajectory_b_id=b,
                                  left_trajectory_id=a, task=str(task)))  # fmt: skip
    return views


def with_strata(labels: pd.DataFrame, manifest: pd.DataFrame) -> pd.DataFrame:
    quartile = manifest.set_index("trajectory_id")["quartile"]
    gap = (quartile[labels["trajectory_a_id"]].to_numpy()
           - quartile[labels["trajectory_b_id"]].to_numpy())  # fmt: skip
    return labels.assign(stratum=[STRATA.get(abs(int(g)), "distant") for g in gap])


def test_accuracy_against_the_simulator_return_per_stratum(rewarded: Pool) -> None:
    manifest = rewarded.manifest
    labeler = RubricLabeler(manifest)
    assert isinstance(labeler, Labeler)
    views = same_task_pairs(manifest)
    labels = with_strata(ai_label_table(labeler, views, seed=0), manifest)
    truth = truth_from_frame(manifest, "true_return").score
    table = accuracy_by(labels, truth, "stratum")
    message = f"rubric labeler vs true_return, answered {len(labels)}/{len(views)}:\n{table}"
    assert len(labels) >= 0.6 * len(views), message
    assert table.loc["distant", "accuracy"] >= 0.95, message
    assert table.loc["adjacent", "accuracy"] >= 0.8, message
    assert table.loc["same", "accuracy"] >= 0.6, message
    assert ((labels["p_a"] > 0.5) == (labels["preference"] == "A")).all()
    margin, sure = (labels["p_a"] - 0.5).abs(), labels["confidence"] >= 4
    assert margin[sure].min() > margin[~sure].max()


def test_never_reads_the_forbidden_columns(rewarded: Pool) -> None:
    manifest = rewarded.manifest
    views = same_task_pairs(manifest)
    answers = ai_label_table(RubricLabeler(manifest), views, seed=0)
    stripped = manifest.drop(columns=list(FORBIDDEN))
    assert (ai_label_table(RubricLabeler(stripped), views, seed=0)).equals(answers)
    rng = np.random.default_rng(0)
    scrambled = manifest.copy()
    for column in FORBIDDEN:  # shuffled truth and tiers: the same answers
        scrambled[column] = rng.permutation(scrambled[column].to_numpy())
    assert ai_label_table(RubricLabeler(scrambled), views, seed=0).equals(answers)
    assert not set(FORBIDDEN) & set(OBSERVABLE_COLUMNS)


def test_abstains_when_the_rubric_cannot_tell(rewarded: Pool) -> None:
    manifest = rewarded.manifest.copy()
    first, second, third = manifest["trajectory_id"].iloc[:3]
    manifest.loc[manifest.index[:2], "major_collisions"] = 1  # both disqualified
    clone = manifest.iloc[[2]].assign(trajectory_id="clone")  # the same metrics as `third`
    manifest = pd.concat([manifest, clone], ignore_index=True)
    labeler = RubricLabeler(manifest)
    view = PairView(pair_id="p", trajectory_a_id=first, trajectory_b_id=second,
                    left_trajectory_id=first)  # fmt: skip
    assert labeler.label(view, seed=0) is None
    view = PairView(pair_id="q", trajectory_a_id=third, trajectory_b_id="clone",
                    left_trajectory_id="clone")  # fmt: skip
    assert labeler.label(view, seed=0) is None
    disqualified_vs_other = replace(view, trajectory_a_id=first, left_trajectory_id=first)
    answer = labeler.label(disqualified_vs_other, seed=0)
    assert answer is not None and answer.preference.value == "B" and answer.p_a < 0.01
    ties = RubricLabeler(manifest, config=RubricLabelerConfig(abstain_gap=0.0, equal_gap=0.5))
    tie = ties.label(view, seed=0)  # a gap of 0 is within equal_gap
    assert tie is not None and tie.preference.value == "equal" and tie.p_a == 0.5


def test_provenance_names_the_rubric_config_and_stores_as_ai(
    store: Store, rewarded: Pool
) -> None:
    manifest = rewarded.manifest
    labeler = RubricLabeler(manifest, annotator_id=ANNOTATORS[0])
    heavier = RubricLabeler(manifest, config=RubricLabelerConfig(
        rubric=PoolConfig(rubric=RubricConfig(per_minor_collision=1.0))))  # fmt: skip
    assert labeler.provenance.interface_version.startswith("ai:rubric/1.")
    assert heavier.provenance.version != labeler.provenance.version
    batch_id = seed_store(store, manifest)
    created = label_batch(store, batch_id, labeler, seed=0)
    stored = annotations_frame(store, batch_id)
    assert created == len(stored) > 0 and set(stored["annotator_id"]) == {ANNOTATORS[0]}
    assert stored["interface_version"].map(is_ai_label).all()
    assert set(stored["interface_version"]) == {labeler.provenance.interface_version}


def test_refuses_unknown_trajectories_and_missing_metrics(rewarded: Pool) -> None:
    labeler = RubricLabeler(rewarded.manifest)
    with pytest.raises(InputError, match="trajectory_id"):
        labeler.check_trajectories(["nope"])
    with pytest.raises(InputError) as info:
        RubricLabeler(rewarded.manifest.drop(columns="path_efficiency"))
    assert info.value.field == "path_efficiency"
    RubricLabeler(rewarded.manifest.drop(columns="horizon_s"))  # the task's longest run stands in

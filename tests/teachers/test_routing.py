"""Noise routing (PrefVLM): clean, flipped and uncertain AI labels, judged against the truth."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from robopref.errors import InputError
from robopref.pool import Pool
from robopref.scoring import TableScorer, bradley_terry
from robopref.teachers import (
    AI_LABEL_COLUMNS,
    PairView,
    Route,
    RoutingConfig,
    RubricLabeler,
    ai_label_table,
    label_accuracy,
    label_kl,
    model_predictions,
    route_labels,
    truth_from_frame,
)

Labelled = tuple[pd.DataFrame, np.ndarray, dict[str, float]]


def synthetic_labels(n: int, *, wrong: float, seed: int = 0) -> Labelled:
    """`n` AI labels (a share `wrong` of them inverted, each sure at 0.9) on pairs of known
    truth, and a fair model's predictions σ(3 · true gap + noise)."""
    rng = np.random.default_rng(seed)
    value = rng.uniform(0.0, 1.0, 2 * n)
    truth = {f"t{i}": float(v) for i, v in enumerate(value)}
    gap = value[:n] - value[n:]
    right = rng.random(n) >= wrong
    says_a = (gap > 0) == right
    labels = pd.DataFrame({
        "pair_id": [f"p{i}" for i in range(n)],
        "trajectory_a_id": [f"t{i}" for i in range(n)],
        "trajectory_b_id": [f"t{n + i}" for i in range(n)],
        "task": "reach",
        "preference": np.where(says_a, "A", "B"),
        "confidence": 5,
        "p_a": np.where(says_a, 0.9, 0.1),
        "annotator_id": "ai-rubric",
        "label_source": "ai:rubric",
    })  # fmt: skip
    p_model = bradley_terry(8.0 * gap + rng.normal(0.0, 0.5, n), np.zeros(n))
    return labels, p_model, truth


def test_flipping_fixes_mostly_wrong_labels_and_uncertain_go_to_people() -> None:
    labels, p_model, truth = synthetic_labels(2000, wrong=0.3)
    routed = route_labels(labels, p_model, truth=truth)
    counts, accuracy = routed.report.counts, routed.report.accuracy
    message = f"counts {counts}, accuracy {accuracy}"
    assert sum(counts[r.value] for r in Route) == counts["total"] == 2000, message
    assert min(counts[r.value] for r in (Route.CLEAN, Route.FLIPPED, Route.HUMAN)) > 100, message
    assert accuracy["all"] == pytest.approx(0.7, abs=0.03), message
    assert accuracy["flipped_before"] < 0.15 and accuracy["flipped"] > 0.85, message
    assert accuracy["clean"] > 0.9, message
    assert accuracy["trained"] > accuracy["all"] + 0.15, message  # better than the AI alone
    flipped = routed.group(Route.FLIPPED)
    original = labels.set_index("pair_id").loc[flipped["pair_id"]]
    np.testing.assert_allclose(flipped["p_a"], 1.0 - original["p_a"])
    assert (flipped["preference"] != original["preference"].to_numpy()).all()
    kept = set(routed.for_training["route"])
    assert kept == {"clean", "flipped"}


def test_the_human_budget_takes_the_most_disputed_first() -> None:
    labels, p_model, truth = synthetic_labels(400, wrong=0.3, seed=1)
    everyone = route_labels(labels, p_model, truth=truth)
    budget = everyone.report.counts["human"] // 3
    routed = route_labels(labels, p_model, RoutingConfig(human_budget=budget), truth=truth)
    humans = routed.to_humans
    deferred = everyone.report.counts["human"] - budget
    assert len(humans) == budget > 0 and routed.report.counts["deferred"] == deferred
    assert humans["kl"].is_monotonic_decreasing
    assert humans["kl"].min() >= routed.group(Route.DEFERRED)["kl"].max()
    assert routed.report.counts["clean"] == everyone.report.counts["clean"]
    none = route_labels(labels, p_model, RoutingConfig(human_budget=0))
    assert none.to_humans.empty and none.report.accuracy == {}


def test_thresholds_route_by_kl() -> None:
    labels, _, _ = synthetic_labels(4, wrong=0.0)
    labels["p_a"] = [0.9, 0.9, 0.9, 0.5]
    p_model = np.array([0.9, 0.5, 0.02, 0.01])  # agrees, unsure, confidently against; a tie
    routed = route_labels(labels, p_model, RoutingConfig(lower=0.1, upper=1.0))
    by_pair = routed.labels.set_index("pair_id")["route"].to_dict()
    assert by_pair == {"p0": "clean", "p1": "human", "p2": "flipped", "p3": "human"}
    assert label_kl(np.array([0.9]), np.array([0.02]))[0] == pytest.approx(
        0.9 * math.log(0.9 / 0.02) + 0.1 * math.log(0.1 / 0.98))
    with pytest.raises(ValueError, match="lower"):
        RoutingConfig(lower=2.0, upper=1.0)
    with pytest.raises(InputError, match="p_model"):
        route_labels(labels, p_model[:2])
    with pytest.raises(InputError, match="p_a"):
        route_labels(labels.drop(columns="p_a"), p_model)


def test_routes_a_real_labelers_answers_with_a_scorers_predictions(rewarded: Pool) -> None:
    manifest = rewarded.manifest
    ids = manifest.loc[manifest["task"] == "reach red", "trajectory_id"].tolist()
    views = [PairView(pair_id=f"{a}|{b}", trajectory_a_id=a, trajectory_b_id=b,
                      left_trajectory_id=a) for a, b in itertools.pairwise(ids)]
    labels = ai_label_table(RubricLabeler(manifest), views, seed=0)
    assert list(labels.columns) == list(AI_LABEL_COLUMNS)
    truth = truth_from_frame(manifest, "true_return").score
    model = TableScorer({t: 10.0 * truth[t] for t in truth})  # a model that learnt the truth
    p_model = model_predictions(model, rewarded, labels)
    np.testing.assert_allclose(p_model, bradley_terry(
        np.array([10.0 * truth[t] for t in labels["trajectory_a_id"]]),
        np.array([10.0 * truth[t] for t in labels["trajectory_b_id"]])))  # fmt: skip
    routed = route_labels(labels, p_model, truth=truth)
    before = label_accuracy(labels, truth)
    assert before is not None and routed.report.accuracy["trained"] >= before

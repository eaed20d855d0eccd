"""Noise routing (PrefVLM, seed 003): keep, flip or hand to humans each AI label by its KL.

For every AI-labelled pair, KL(AI label ‖ current model) — the divergence between the
labeler's Bernoulli P(A ≻ B) and the reward model's — sorts the label: below `lower` it
agrees with what the model has learnt and is kept as clean; above `upper` the model is
confidently the other way and the label is flipped (deep networks learn clean patterns
before they fit noise, so a confident disagreement is more likely the label's error);
between the two it is uncertain and is queued for people, the most disputed first, within
a budget. Uncertain labels beyond the budget are deferred (neither trained on nor asked).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from robopref.errors import InputError
from robopref.scoring import Scorer
from robopref.teachers.ai_preferences import AI_LABEL_COLUMNS, flip_labels, label_accuracy
from robopref.teachers.labeler import TrajectorySource

T = TypeVar("T")

_EPS = 1e-6
"""Probabilities are clipped to [ε, 1 − ε] so a sure label against a sure model stays finite."""


class Route(str, Enum):
    """Where an AI label goes."""

    CLEAN = "clean"
    """Kept as labelled (KL < lower)."""
    FLIPPED = "flipped"
    """Kept with A and B swapped (KL > upper)."""
    HUMAN = "human"
    """Uncertain, queued for people (within the budget)."""
    DEFERRED = "deferred"
    """Uncertain beyond the human budget: neither trained on nor asked yet."""


@dataclass(frozen=True, kw_only=True)
class RoutingConfig:
    """PrefVLM's two KL thresholds (nats) and the human budget."""

    lower: float = -math.log(0.7)
    """Clean below this: for a sure AI label, the model gives that label P > 0.7."""
    upper: float = -math.log(0.2)
    """Flipped above this: for a sure AI label, the model gives it P < 0.2."""
    human_budget: int | None = None
    """Uncertain labels sent to people, most disputed (highest KL) first; None sends all."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.lower <= self.upper:
            raise ValueError(f"need 0 <= lower <= upper, got {self.lower}, {self.upper}")
        if self.human_budget is not None and self.human_budget < 0:
            raise ValueError(f"human_budget must be >= 0 or None, got {self.human_budget}")


@dataclass(frozen=True)
class RoutingReport:
    """How many labels went each way and, given a truth, how accurate each group was.

    Accuracy is the share of labels whose direction (A or B; `equal` counts as wrong)
    matches the truth, over pairs the truth orders; None for an empty group.
    """

    counts: dict[str, int]
    """Route → labels (every `Route`, plus `total`)."""
    accuracy: dict[str, float | None]
    """Route → accuracy of the labels as routed (flipped ones after the flip); `all`: the
    AI labels as given; `flipped_before`: the flipped ones before the flip; `trained`:
    clean and flipped together, as training gets them. Empty without a truth."""

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        return {"counts": dict(self.counts), "accuracy": dict(self.accuracy)}


@dataclass(frozen=True)
class Routed:
    """The routed labels and the report."""

    labels: pd.DataFrame
    """`AI_LABEL_COLUMNS` (flipped rows already flipped) + `p_model`, `kl`, `route`; the
    most disputed (highest KL) first."""
    report: RoutingReport

    def group(self, route: Route) -> pd.DataFrame:
        """The labels routed to `route`."""
        return self.labels[self.labels["route"] == route.value].reset_index(drop=True)

    @property
    def for_training(self) -> pd.DataFrame:
        """Clean and flipped labels: what reaches training as AI labels."""
        kept = self.labels["route"].isin([Route.CLEAN.value, Route.FLIPPED.value])
        return self.labels[kept].reset_index(drop=True)

    @property
    def to_humans(self) -> pd.DataFrame:
        """The uncertain pairs queued for people, most disputed first."""
        return self.group(Route.HUMAN)


def label_kl(p_label: np.ndarray, p_model: np.ndarray) -> np.ndarray:
    """KL(label ‖ model) of Bernoulli P(A ≻ B)s, elementwise, in nats.

    >>> label_kl(np.array([1.0, 0.8, 0.5]), np.array([0.5, 0.8, 0.5])).round(4).tolist()
    [0.6931, 0.0, 0.0]
    """
    q = np.clip(np.asarray(p_label, np.float64), _EPS, 1.0 - _EPS)
    p = np.clip(np.asarray(p_model, np.float64), _EPS, 1.0 - _EPS)
    out = q * np.log(q / p) + (1.0 - q) * np.log((1.0 - q) / (1.0 - p))
    return np.asarray(np.maximum(out, 0.0), np.float64)


def model_predictions(
    scorer: Scorer[T], trajectories: TrajectorySource[T], labels: pd.DataFrame
) -> np.ndarray:
    """(N,) the model's P(A ≻ B) for each labelled pair, from one `prefer` call."""
    a: Sequence[T] = [trajectories[str(t)] for t in labels["trajectory_a_id"]]
    b: Sequence[T] = [trajectories[str(t)] for t in labels["trajectory_b_id"]]
    return np.asarray(scorer.prefer(a, b), np.float64).reshape(-1)


def route_labels(
    labels: pd.DataFrame,
    p_model: np.ndarray,
    config: RoutingConfig | None = None,
    *,
    truth: Mapping[str, float] | None = None,
) -> Routed:
    """Sort AI labels into clean, flipped and uncertain (to people, or deferred).

    Args:
        labels: AI labels (`AI_LABEL_COLUMNS`, e.g. from `ai_label_table`).
        p_model: (N,) the current model's P(A ≻ B) per row (`model_predictions`).
        config: Thresholds and the human budget.
        truth: Trajectory id → true value (e.g. `GroundTruth.score`) for the report's
            accuracies; never used to route.

    Raises:
        InputError: A column is missing, or `p_model` does not match the labels.
    """
    config = config or RoutingConfig()
    for column in AI_LABEL_COLUMNS:
        if column not in labels.columns:
            raise InputError("ai labels", column, "column missing")
    p_model = np.asarray(p_model, np.float64).reshape(-1)
    if len(p_model) != len(labels) or not np.isfinite(p_model).all():
        raise InputError("routing", "p_model", f"need {len(labels)} finite probabilities")
    frame = labels.reset_index(drop=True).copy()
    frame["p_model"] = p_model
    frame["kl"] = label_kl(frame["p_a"].to_numpy(np.float64), p_model)
    frame["route"] = _routes(frame, config)
    flipped = (frame["route"] == Route.FLIPPED.value).to_numpy()
    before = frame.copy()
    frame = flip_labels(frame, flipped)
    order = np.lexsort((frame.index.to_numpy(), -frame["kl"].to_numpy()))
    frame = frame.iloc[order].reset_index(drop=True)  # most disputed first, stable
    report = _report(frame, before, flipped, truth)
    return Routed(labels=frame, report=report)


def _routes(frame: pd.DataFrame, config: RoutingConfig) -> np.ndarray:
    """Route of each row: thresholds, then the budget over the uncertain ones by KL."""
    kl = frame["kl"].to_numpy(np.float64)
    tie = np.isclose(frame["p_a"].to_numpy(np.float64), 0.5)
    route = np.full(len(frame), Route.HUMAN.value, dtype=object)
    route[kl < config.lower] = Route.CLEAN.value
    route[(kl > config.upper) & ~tie] = Route.FLIPPED.value  # a tie has no other side
    uncertain = np.flatnonzero(route == Route.HUMAN.value)
    if config.human_budget is not None:
        ranked = uncertain[np.argsort(-kl[uncertain], kind="stable")]
        route[ranked[config.human_budget :]] = Route.DEFERRED.value
    return route


def _report(
    frame: pd.DataFrame,
    before: pd.DataFrame,
    flipped: np.ndarray,
    truth: Mapping[str, float] | None,
) -> RoutingReport:
    counts = {r.value: int((frame["route"] == r.value).sum()) for r in Route}
    counts["total"] = len(frame)
    if truth is None:
        return RoutingReport(counts=counts, accuracy={})
    accuracy: dict[str, float | None] = {"all": label_accuracy(before, truth)}
    for route in Route:
        accuracy[route.value] = label_accuracy(frame[frame["route"] == route.value], truth)
    accuracy["flipped_before"] = label_accuracy(before[flipped], truth)
    trained = frame["route"].isin([Route.CLEAN.value, Route.FLIPPED.value])
    accuracy["trained"] = label_accuracy(frame[trained], truth)
    return RoutingReport(counts=counts, accuracy=accuracy)

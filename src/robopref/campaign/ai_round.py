"""One round's AI labels in the label-efficiency loop: label, route, batch the rest for people.

PrefVLM's noise routing (seed 003) decides which AI labels training keeps and which pairs
people still answer (seed 001: 60–70 % fewer human labels).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from robopref.campaign.loop_config import LoopConfig
from robopref.pairs.active import batch_of_pairs, select_active
from robopref.pairs.config import ActiveConfig, PairsConfig
from robopref.pairs.records import PairBatch
from robopref.pairs.scores import ScoreCache
from robopref.pool.pool import Pool
from robopref.reward import RewardModel
from robopref.teachers.ai_preferences import ai_label_table, ai_preference_rows
from robopref.teachers.labeler import Labeler, PairView
from robopref.teachers.routing import (
    Route,
    RoutingConfig,
    RoutingReport,
    model_predictions,
    route_labels,
)
from robopref.teachers.truth import GroundTruth
from robopref.types import PairKind


@dataclass(frozen=True)
class AIRound:
    """What the AI labeler contributed to a round."""

    people: PairBatch
    """The batch people answer: the uncertain AI labels first, topped up by active picks."""
    kept: pd.DataFrame
    """Clean and flipped AI labels as training rows (`weight`, `label_source`)."""
    report: RoutingReport


def ai_round(
    candidates: Pool,
    model: RewardModel,
    labeler: Labeler,
    *,
    config: LoopConfig,
    pairs_config: PairsConfig,
    annotator_ids: list[str],
    labelled: list[tuple[str, str]],
    cache: ScoreCache,
    batch_id: str,
    truth: GroundTruth,
) -> AIRound:
    """AI-label `config.ai_per_round` uncertain pairs, route them, and batch the rest for people.

    The AI labels the pairs the model is least sure of (an active draw); labels the model
    agrees with are kept (clean), ones it contradicts strongly are flipped, and the
    uncertain ones go to people, most disputed first, within the round's human batch.
    `truth` only fills the routing report's accuracies; nothing is routed by it.
    """
    n_people = pairs_config.batch_size
    n_gold = ActiveConfig(batch_size=n_people).gold_count(pairs_config)
    wide = select_active(
        candidates, model, annotator_ids=annotator_ids, pairs_config=pairs_config,
        config=ActiveConfig(batch_size=config.ai_per_round + 1, gold_frac=0.0),
        labelled=labelled, cache=cache, batch_id=f"{batch_id}-ai",
    )  # fmt: skip
    views = [
        PairView(
            pair_id=p.pair_id, trajectory_a_id=p.trajectory_a_id,
            trajectory_b_id=p.trajectory_b_id, left_trajectory_id=p.trajectory_a_id,
            kind=p.kind, task=p.task,
        )
        for p in wide.pairs
        if p.kind is not PairKind.DUPLICATE
    ]
    labels = ai_label_table(labeler, views, seed=pairs_config.seed)
    routed = route_labels(
        labels, model_predictions(model, candidates, labels),
        RoutingConfig(human_budget=n_people - n_gold), truth=truth.score,
    )  # fmt: skip
    need = n_people - n_gold
    chosen = _pairs(routed.to_humans)[:need]
    taken = {frozenset(p) for p in chosen} | {frozenset(p) for p in _pairs(routed.for_training)}
    labelled_ai = {frozenset(p) for p in _pairs(routed.labels)}
    abstained = [(v.trajectory_a_id, v.trajectory_b_id) for v in views
                 if frozenset((v.trajectory_a_id, v.trajectory_b_id)) not in labelled_ai]
    deferred = _pairs(routed.labels[routed.labels["route"] == Route.DEFERRED.value])
    for pair in [*deferred, *abstained]:  # top up: pairs the AI left open, most disputed first
        if len(chosen) >= need:
            break
        if frozenset(pair) not in taken:
            taken.add(frozenset(pair))
            chosen.append(pair)
    people = batch_of_pairs(
        candidates, chosen, annotator_ids=annotator_ids, batch_id=batch_id,
        pairs_config=pairs_config, config=ActiveConfig(batch_size=n_people), labelled=labelled,
    )  # fmt: skip
    kept = ai_preference_rows(routed.for_training)  # the loop sets the source's weight
    return AIRound(people=people, kept=kept, report=routed.report)


def _pairs(frame: pd.DataFrame) -> list[tuple[str, str]]:
    return list(zip(frame["trajectory_a_id"].astype(str), frame["trajectory_b_id"].astype(str),
                    strict=True))  # fmt: skip

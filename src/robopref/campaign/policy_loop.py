"""The iteration loop for one task: reward → policy → rollouts → pool → labels → reward.

Round 0 rolls the BC reference out (N sampled candidates per training placement), adds
the rollouts to the pool as a new tier, has people label pairs and trains the reward
model. Each round r then fine-tunes the policy (KL-anchored, advantage-weighted, from
the previous round's policy) on every rollout so far scored by the current learned reward,
evaluates it on held-out placements, probes the reward on those rollouts against the
truth, rolls the new policy out, adds the batch to the pool as the next tier, labels new
pairs that involve it, and retrains the reward on all labels. Labels come from a
`Labeler` callable (simulated annotators in the benchmark; a store batch in production).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from robopref.errors import InputError
from robopref.policy.best_of_n import BestOfNConfig, candidate_jobs
from robopref.policy.evaluate import evaluate_policy, probe_reward, quality_scores
from robopref.policy.finetune import FinetuneConfig, finetune
from robopref.policy.gaussian import GaussianPolicy
from robopref.policy.rollouts import RolloutRunner
from robopref.policy.scorers import LearnedReward
from robopref.policy.to_pool import AllFailedError, add_rollouts, check_some_succeed
from robopref.pool.pool import Pool, open_pool
from robopref.pool.trajectory import Trajectory
from robopref.reward import RewardModel

logger = logging.getLogger(__name__)

PairLabeler = Callable[[Pool, int, int], pd.DataFrame]
"""(pool of candidate trajectories, number of pairs, seed) → preferences (PREFERENCES_SCHEMA)."""
RewardTrainer = Callable[[pd.DataFrame, Pool], RewardModel]
"""(all preferences so far, pool) → a trained reward model."""

COMPARISONS_PER_HOUR = 50.0
"""An annotator's pace (seed 004: 40–60 comparisons per hour)."""
REDUNDANCY = 2.0
"""Annotators per pair (seed 004)."""
REPLACEMENT = 0.175
"""Extra pairs bought for the discarded ones (seed 004: 15–20 %)."""


def annotator_hours(labels: int) -> float:
    """People-hours that `labels` aggregated pair labels cost.

    >>> round(annotator_hours(1000), 1)
    47.0
    """
    return labels * REDUNDANCY * (1.0 + REPLACEMENT) / COMPARISONS_PER_HOUR


@dataclass(frozen=True, kw_only=True)
class PolicyLoopConfig:
    """Settings of the loop for one task."""

    rounds: int = 3
    """Policy updates after the reference."""
    initial_labels: int = 400
    """Pairs labelled before the first update."""
    labels_per_round: int = 150
    """Pairs labelled after each round's rollouts (none after the last)."""
    candidates: BestOfNConfig = field(default_factory=lambda: BestOfNConfig(n=4))
    """Sampled rollouts per training placement, each round."""
    train_placements: Sequence[int] = tuple(range(20_000, 20_040))
    """Env seeds the rollouts start from."""
    test_placements: Sequence[int] = tuple(range(30_000, 30_060))
    """Env seeds of the evaluation (never trained on)."""
    uncertainty_k: float = 1.0
    """Learned reward = ensemble mean − k · std."""
    finetune: FinetuneConfig = field(default_factory=FinetuneConfig)
    """The KL-anchored update."""
    redraws: int = 2
    """New candidate batches drawn (more noise) when one fails everywhere (seed 000)."""
    seed: int = 0

    def __post_init__(self) -> None:
        if self.rounds < 1:
            raise InputError("PolicyLoopConfig", "rounds", f"must be >= 1, got {self.rounds}")
        if set(self.train_placements) & set(self.test_placements):
            raise InputError("PolicyLoopConfig", "test_placements", "overlap the training ones")


@dataclass
class RoundRecord:
    """What one round spent and achieved (one row of the report)."""

    round: int
    labels: int
    annotator_hours: float
    success: float
    mean_return: float
    mean_quality: float
    kl_to_reference: float | None
    reward_pair_accuracy: float | None
    reward_spearman: float | None
    top_quarter_failures: float
    truth_top_quarter_failures: float
    tier: str | None
    wall_seconds: float

    def as_dict(self) -> dict[str, Any]:
        """The row as a JSON-ready dict."""
        return asdict(self)


@dataclass
class LoopState:
    """Everything the loop carries from round to round."""

    policy: GaussianPolicy
    preferences: pd.DataFrame
    model: RewardModel
    tier: str
    """The newest rollout tier in the pool."""
    rollouts: list[Trajectory] = field(default_factory=list)
    groups: list[int] = field(default_factory=list)
    records: list[RoundRecord] = field(default_factory=list)


def start_loop(
    runner: RolloutRunner,
    pool_path: Path,
    task: str,
    reference: GaussianPolicy,
    config: PolicyLoopConfig,
    *,
    label: PairLabeler,
    train: RewardTrainer,
) -> LoopState:
    """Round 0: the reference's candidates into the pool, the first labels, the first reward.

    Args:
        runner: An open rollout runner.
        pool_path: The pool the rollout tiers are added to (it grows by one tier a round).
        task: Meta-World env name.
        reference: The BC policy (the start and the KL anchor).
        config: Loop settings.
        label: Labels pairs of a pool (see `PairLabeler`).
        train: Trains the reward model on all preferences so far.

    Raises:
        AllFailedError: The candidates failed everywhere, `redraws` times over.
    """
    start = time.perf_counter()
    tier, rollouts = _rollout_tier(runner, pool_path, task, reference, config, round_=0)
    pool = open_pool(pool_path)
    prefs = label(pool, config.initial_labels, config.seed)
    state = LoopState(policy=reference, preferences=prefs, model=train(prefs, pool), tier=tier)
    _extend(state, rollouts, round_=0)
    state.records.append(
        _evaluate(runner, task, reference, state, config, round_=0, tier=tier, start=start)
    )
    return state


def run_rounds(
    state: LoopState,
    runner: RolloutRunner,
    pool_path: Path,
    task: str,
    reference: GaussianPolicy,
    config: PolicyLoopConfig,
    *,
    label: PairLabeler,
    train: RewardTrainer,
) -> list[RoundRecord]:
    """Rounds 1..R after `start_loop`; returns every record (round 0 first).

    Raises:
        AllFailedError: A round's candidates failed everywhere, `redraws` times over.
    """
    for r in range(1, config.rounds + 1):
        start = time.perf_counter()
        scores = LearnedReward(state.model, config.uncertainty_k).score(state.rollouts)
        result = finetune(
            state.rollouts,
            scores,
            reference,
            replace(config.finetune, seed=config.seed * 100 + r),
            start=state.policy,
            groups=np.array(state.groups),
        )
        state.policy = result.policy
        new_tier = None
        if r < config.rounds:
            new_tier, rollouts = _rollout_tier(
                runner, pool_path, task, state.policy, config, round_=r
            )
            _extend(state, rollouts, round_=r)
            pool = open_pool(pool_path)
            fresh = {t.trajectory_id for t in rollouts}
            previous = pool.manifest.loc[pool.manifest["source"] == state.tier, "trajectory_id"]
            new = label(
                pool.subset(fresh | set(previous)), config.labels_per_round, config.seed * 100 + r
            )
            state.preferences = pd.concat([state.preferences, new], ignore_index=True)
            state.model = train(state.preferences, pool)
            state.tier = new_tier
        state.records.append(
            _evaluate(runner, task, reference, state, config, round_=r, tier=new_tier, start=start)
        )
        logger.info("%s round %d: success %.2f", task, r, state.records[-1].success)
    return state.records


def run_policy_loop(
    runner: RolloutRunner,
    pool_path: Path,
    task: str,
    reference: GaussianPolicy,
    config: PolicyLoopConfig,
    *,
    label: PairLabeler,
    train: RewardTrainer,
) -> list[RoundRecord]:
    """`start_loop` then `run_rounds`: one record per round (round 0 is the reference)."""
    state = start_loop(runner, pool_path, task, reference, config, label=label, train=train)
    return run_rounds(state, runner, pool_path, task, reference, config, label=label, train=train)


def _extend(state: LoopState, rollouts: list[Trajectory], *, round_: int) -> None:
    # The advantage baseline of a rollout is the other candidates from its placement and round.
    state.rollouts += rollouts
    state.groups += [round_ * 1_000_000 + int(t.metadata["seed"] or 0) for t in rollouts]


def _rollout_tier(
    runner: RolloutRunner,
    pool_path: Path,
    task: str,
    policy: GaussianPolicy,
    config: PolicyLoopConfig,
    *,
    round_: int,
) -> tuple[str, list[Trajectory]]:
    """Candidates of `policy` added to the pool as a new tier (redrawn if all fail)."""
    cand = replace(config.candidates, seed=config.seed * 1000 + round_)
    for attempt in range(config.redraws + 1):
        jobs = candidate_jobs(
            task, policy.weights(), config.train_placements, cand, info={"round": round_}
        )
        rollouts = runner.run(jobs)
        try:
            check_some_succeed(rollouts, what=f"round {round_} rollouts")
        except AllFailedError:
            if attempt == config.redraws:
                raise
            logger.warning("%s round %d: every candidate failed; drawing again", task, round_)
            cand = replace(cand, seed=cand.seed + 7919, noise_scale=cand.noise_scale * 1.5)
            continue
        _, source = add_rollouts(pool_path, rollouts)
        pool = open_pool(pool_path)
        ids = pool.manifest.loc[pool.manifest["source"] == source, "trajectory_id"]
        return source, [pool[str(i)] for i in ids]
    raise AssertionError("unreachable")


def _evaluate(
    runner: RolloutRunner,
    task: str,
    reference: GaussianPolicy,
    state: LoopState,
    config: PolicyLoopConfig,
    *,
    round_: int,
    tier: str | None,
    start: float,
) -> RoundRecord:
    evaluation, rollouts = evaluate_policy(
        runner, task, state.policy.weights(), config.test_placements, reference=reference
    )
    rewards = state.model.score(rollouts)
    probe = probe_reward(rewards, quality_scores(rollouts), np.array([t.success for t in rollouts]))
    labels = len(state.preferences)
    return RoundRecord(
        round=round_,
        labels=labels,
        annotator_hours=annotator_hours(labels),
        success=evaluation.success,
        mean_return=evaluation.mean_return,
        mean_quality=evaluation.mean_quality,
        kl_to_reference=evaluation.kl_to_reference,
        reward_pair_accuracy=probe.pair_accuracy,
        reward_spearman=probe.spearman,
        top_quarter_failures=probe.top_quarter_failures,
        truth_top_quarter_failures=probe.truth_top_quarter_failures,
        tier=tier,
        wall_seconds=time.perf_counter() - start,
    )

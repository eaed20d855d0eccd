"""The iteration loop for one task: reward → policy → rollouts → pool → labels → reward.

Round 0 rolls the BC reference out (N sampled candidates per training placement), adds
the rollouts to the pool as a new tier, has people label pairs and trains the reward
model. Each round r then fine-tunes the policy (KL-anchored, advantage-weighted, from
the previous round's policy) on every rollout so far scored by the current learned reward,
evaluates it on held-out placements, probes the reward on those rollouts against the
truth, rolls the new policy out, adds the batch to the pool as the next tier, labels new
pairs that involve it, and retrains the reward on all labels. Labels come from a
`Labeler` callable (simulated annotators in the benchmark; a store batch in production).

Given a work folder the loop is resumable: every finished round is one folder
`round-NN/` (the policy as safetensors, the preferences so far as Parquet, the reward
checkpoint, the rollout tiers so far and the round's record as JSON), staged and renamed
into place, so a crash at any stage loses only the unfinished round. Rerunning with the
same settings reads the finished rounds back and carries on from the last one. A tier
the crashed round had already added to the pool is found again by its rollouts' `loop`
and `round` metadata and reused, never added twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from robopref.campaign.cpu_time import cpu_seconds
from robopref.campaign.loop_state import LoopState, PolicyLoopConfig, RoundRecord, extend_rollouts
from robopref.campaign.loop_work import (
    finished_rounds,
    open_work,
    restore,
    restore_into,
    save_round,
)
from robopref.policy.best_of_n import candidate_jobs
from robopref.policy.evaluate import evaluate_policy, probe_reward, quality_scores
from robopref.policy.finetune import finetune
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


def simulated_labeler(epsilon: float) -> PairLabeler:
    """Simulated annotators (B-Pref teacher on the rubric's quality score), wrong w.p. epsilon.

    The labels come from `robopref.testing.preferences.synthetic_preferences`.
    """

    def label(pool: Pool, n_pairs: int, seed: int) -> pd.DataFrame:
        from robopref.testing.preferences import synthetic_preferences

        return synthetic_preferences(pool, n_pairs=n_pairs, seed=seed, epsilon=epsilon)

    return label


def state_reward_trainer(
    *, seed: int, ensemble_size: int, epochs: int, device: str = "cpu"
) -> RewardTrainer:
    """Trains a state-encoder reward ensemble on all preferences so far.

    The loop's own held-out rollouts are its test, so 1 % of pairs is kept for the split.
    """

    def train(prefs: pd.DataFrame, pool: Pool) -> RewardModel:
        from robopref.reward import EncoderConfig, TrainConfig, train_reward_model

        config = TrainConfig(
            encoder=EncoderConfig(kind="state"),
            seed=seed,
            ensemble_size=ensemble_size,
            epochs=epochs,
            test_fraction=0.01,
            device=device,
        )
        return train_reward_model(prefs, pool, config).model

    return train


RoundCallback = Callable[[RoundRecord], None]
"""Called with each round's record as the round finishes (not for rounds read back)."""

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


def start_loop(
    runner: RolloutRunner,
    pool_path: Path,
    task: str,
    reference: GaussianPolicy,
    config: PolicyLoopConfig,
    *,
    label: PairLabeler,
    train: RewardTrainer,
    work: Path | None = None,
    on_round: RoundCallback | None = None,
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
        work: Folder that keeps every finished round (absent, empty or an earlier run of
            this loop with the same settings: then a finished round 0 is read back).
        on_round: Called with the record of round 0 when it was run.

    Raises:
        AllFailedError: The candidates failed everywhere, `redraws` times over.
        InputError: `work` holds something else, or a run with other settings.
    """
    loop_id = None if work is None else open_work(work, task, reference, config)
    if work is not None and finished_rounds(work):
        return restore(work, 0, pool_path)
    start, cpu = time.perf_counter(), cpu_seconds()
    tier, rollouts = _rollout_tier(
        runner, pool_path, task, reference, config, round_=0, loop_id=loop_id
    )
    pool = open_pool(pool_path)
    prefs = label(_task_pool(pool, task), config.initial_labels, config.seed)
    state = LoopState(
        policy=reference,
        preferences=prefs,
        model=train(prefs, pool),
        tier=tier,
        tiers=[(0, tier)],
        loop_id=loop_id,
    )
    extend_rollouts(state, rollouts, round_=0)
    state.records.append(
        _evaluate(runner, task, reference, state, config, round_=0, tier=tier, start=(start, cpu))
    )
    if work is not None:
        save_round(work, state, 0, pool_path)
    if on_round is not None:
        on_round(state.records[-1])
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
    work: Path | None = None,
    on_round: RoundCallback | None = None,
) -> list[RoundRecord]:
    """Rounds 1..R after `start_loop`; returns every record (round 0 first).

    With `work` (the folder given to `start_loop`), rounds already finished there are read
    back instead of run, and each new round is saved there as it finishes; `on_round` gets
    each new round's record.

    Raises:
        AllFailedError: A round's candidates failed everywhere, `redraws` times over.
    """
    first = 1
    if work is not None:
        done = [r for r in finished_rounds(work) if r <= config.rounds]
        if len(done) > 1:
            restore_into(state, restore(work, done[-1], pool_path))
        first = max(1, len(done))
    for r in range(first, config.rounds + 1):
        start = (time.perf_counter(), cpu_seconds())
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
                runner, pool_path, task, state.policy, config, round_=r, loop_id=state.loop_id
            )
            extend_rollouts(state, rollouts, round_=r)
            pool = open_pool(pool_path)
            fresh = {t.trajectory_id for t in rollouts}
            previous = pool.manifest.loc[pool.manifest["source"] == state.tier, "trajectory_id"]
            new = label(
                pool.subset(fresh | set(previous)), config.labels_per_round, config.seed * 100 + r
            )
            state.preferences = pd.concat([state.preferences, new], ignore_index=True)
            state.model = train(state.preferences, pool)
            state.tier = new_tier
            state.tiers.append((r, new_tier))
        state.records.append(
            _evaluate(runner, task, reference, state, config, round_=r, tier=new_tier, start=start)
        )
        if work is not None:
            save_round(work, state, r, pool_path)
        if on_round is not None:
            on_round(state.records[-1])
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
    work: Path | None = None,
    on_round: RoundCallback | None = None,
) -> list[RoundRecord]:
    """`start_loop` then `run_rounds`: one record per round (round 0 is the reference)."""
    state = start_loop(
        runner, pool_path, task, reference, config,
        label=label, train=train, work=work, on_round=on_round,
    )  # fmt: skip
    return run_rounds(
        state, runner, pool_path, task, reference, config,
        label=label, train=train, work=work, on_round=on_round,
    )  # fmt: skip


def _task_pool(pool: Pool, task: str) -> Pool:
    """The pool's trajectories of `task` (the pool itself when it holds no other)."""
    mine = pool.manifest["env_id"] == task
    return pool if mine.all() else pool.subset(pool.manifest.loc[mine, "trajectory_id"])


def _rollout_tier(
    runner: RolloutRunner,
    pool_path: Path,
    task: str,
    policy: GaussianPolicy,
    config: PolicyLoopConfig,
    *,
    round_: int,
    loop_id: str | None = None,
) -> tuple[str, list[Trajectory]]:
    """Candidates of `policy` added to the pool as a new tier (redrawn if all fail).

    With a `loop_id`, a tier this loop's round already added (before a crash) is reused.
    """
    info: dict[str, str | int] = {"round": round_}
    if loop_id is not None:
        info["loop"] = loop_id
        found = _find_tier(open_pool(pool_path), task, loop_id, round_)
        if found is not None:
            logger.info("%s round %d: reusing tier %s", task, round_, found[0])
            return found
    cand = replace(config.candidates, seed=config.seed * 1000 + round_)
    for attempt in range(config.redraws + 1):
        jobs = candidate_jobs(task, policy.weights(), config.train_placements, cand, info=info)
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


def _find_tier(
    pool: Pool, task: str, loop_id: str, round_: int
) -> tuple[str, list[Trajectory]] | None:
    """The tier of `task` whose rollouts record this loop and round, if the pool has one."""
    m = pool.manifest
    rows = m[(m["env_id"] == task) & m["source"].astype(str).str.startswith("policy_checkpoint_")]
    for source, ids in rows.groupby("source", sort=False)["trajectory_id"]:
        meta = pool[str(ids.iloc[0])].metadata
        if meta.get("loop") == loop_id and meta.get("round") == round_:
            return str(source), [pool[str(i)] for i in ids]
    return None


def _evaluate(
    runner: RolloutRunner,
    task: str,
    reference: GaussianPolicy,
    state: LoopState,
    config: PolicyLoopConfig,
    *,
    round_: int,
    tier: str | None,
    start: tuple[float, float],
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
        wall_seconds=time.perf_counter() - start[0],
        cpu_seconds=cpu_seconds() - start[1],
    )

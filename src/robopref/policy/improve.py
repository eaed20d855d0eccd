"""The policy verbs' work: best-of-N against the policy alone, one KL-anchored update.

Both start from a reference (a pool BC checkpoint or a policy file), roll out from
training placements (`train_seeds`) and evaluate on held-out ones (`test_seeds`, never
trained on), and return a JSON-ready report; `robopref policy` prints and saves it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from robopref.policy.best_of_n import BestOfNConfig, best_of_n, candidate_jobs
from robopref.policy.evaluate import evaluate_policy
from robopref.policy.finetune import FinetuneConfig, FinetuneResult, finetune
from robopref.policy.gaussian import GaussianPolicy
from robopref.policy.rollouts import RolloutRunner
from robopref.policy.scorers import TrajectoryScorer
from robopref.pool.trajectory import Trajectory
from robopref.progress import ProgressCallback, no_progress


@dataclass(frozen=True)
class BestOfNReport:
    """Best-of-N against the policy alone on the same placements."""

    task: str
    scorer: str
    n: int
    placements: int
    policy_success: float
    """The mean action's success (the policy alone)."""
    sampled_success: float
    """A random candidate's success (the stochastic policy alone)."""
    best_of_n_success: float
    """The chosen candidate's success."""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)


def best_of_n_report(
    runner: RolloutRunner,
    task: str,
    policy: GaussianPolicy,
    scorer: TrajectoryScorer,
    test_seeds: Sequence[int],
    config: BestOfNConfig,
    *,
    progress: ProgressCallback = no_progress,
) -> BestOfNReport:
    """Best-of-N by `scorer` and the policy alone, from the same held-out placements."""
    alone, _ = evaluate_policy(runner, task, policy.weights(), test_seeds)
    result = best_of_n(
        runner, task, policy.weights(), test_seeds, scorer, config, progress=progress
    )
    return BestOfNReport(
        task=task,
        scorer=scorer.name,
        n=config.n,
        placements=len(test_seeds),
        policy_success=alone.success,
        sampled_success=result.candidate_success,
        best_of_n_success=result.success,
    )


@dataclass(frozen=True)
class FinetuneReport:
    """One KL-anchored update and the figures before and after it."""

    task: str
    scorer: str
    rollouts: int
    before: dict[str, Any]
    after: dict[str, Any]
    train_kl: float
    losses: list[float]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)


def finetune_once(
    runner: RolloutRunner,
    task: str,
    reference: GaussianPolicy,
    scorer: TrajectoryScorer,
    *,
    train_seeds: Sequence[int],
    test_seeds: Sequence[int],
    candidates: BestOfNConfig,
    config: FinetuneConfig,
    progress: ProgressCallback = no_progress,
) -> tuple[FinetuneResult, FinetuneReport, list[Trajectory]]:
    """Roll the reference out, score, update once, evaluate both; returns the rollouts too."""
    rollouts = runner.run(
        candidate_jobs(task, reference.weights(), train_seeds, candidates), progress=progress
    )
    groups = np.array([int(t.metadata["seed"] or 0) for t in rollouts])
    result = finetune(rollouts, scorer.score(rollouts), reference, config, groups=groups)
    before, _ = evaluate_policy(runner, task, reference.weights(), test_seeds, reference=reference)
    after, _ = evaluate_policy(
        runner, task, result.policy.weights(), test_seeds, reference=reference
    )
    report = FinetuneReport(
        task=task,
        scorer=scorer.name,
        rollouts=len(rollouts),
        before=before.as_dict(),
        after=after.as_dict(),
        train_kl=result.kl,
        losses=result.losses,
    )
    return result, report, rollouts

"""How good a policy is, and how well a learned reward ranks the policy's own rollouts.

Evaluation rolls the policy's mean action (deterministic) out from placements that no
training step saw. The reward probes compare the learned reward with the ground truth the
simulated people answer from (the rubric's `quality_score`) on those rollouts: pairwise
accuracy, Spearman ρ, and the hacking probe — how many of the rollouts the reward ranks in
its top quarter failed the task, against how many the truth's own top quarter holds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from scipy import stats

from robopref.policy.gaussian import GaussianPolicy
from robopref.policy.rollouts import RolloutJob, RolloutRunner
from robopref.pool.config import PoolConfig
from robopref.pool.metrics import compute_metrics
from robopref.pool.rubric import rubric_score
from robopref.pool.trajectory import Trajectory, is_number
from robopref.pool.true_return import true_return
from robopref.progress import ProgressCallback, no_progress


@dataclass(frozen=True)
class PolicyEvaluation:
    """Figures of one policy on held-out placements."""

    success: float
    """Fraction of placements solved."""
    mean_return: float
    """Mean horizon-padded env return."""
    mean_quality: float
    """Mean rubric quality score."""
    kl_to_reference: float | None
    """Mean KL(π ‖ π_ref) over the states the policy visited."""
    episodes: int

    def as_dict(self) -> dict[str, Any]:
        """The figures as a JSON-ready dict."""
        return asdict(self)


def quality_scores(
    trajectories: Sequence[Trajectory], config: PoolConfig | None = None
) -> np.ndarray:
    """The rubric's quality score of each trajectory, as the pool would record it."""
    config = config or PoolConfig()
    out = []
    for traj in trajectories:
        horizon = traj.metadata.get("horizon_s")
        horizon_s = float(horizon) if is_number(horizon) else traj.n_steps / traj.fps
        metrics = compute_metrics(traj, config.metrics)
        score = rubric_score(
            metrics, horizon_s=horizon_s, rubric=config.rubric, thresholds=config.metrics
        )
        out.append(score.quality_score)
    return np.array(out, np.float64)


def evaluate_policy(
    runner: RolloutRunner,
    task: str,
    weights: Mapping[str, np.ndarray],
    env_seeds: Sequence[int],
    *,
    reference: GaussianPolicy | None = None,
    source: str = "evaluation",
    progress: ProgressCallback = no_progress,
) -> tuple[PolicyEvaluation, list[Trajectory]]:
    """Roll the policy's mean action out from each placement; the figures and rollouts."""
    jobs = [
        RolloutJob(task=task, env_seed=int(s), weights=dict(weights), source=source, index=i)
        for i, s in enumerate(env_seeds)
    ]
    rollouts = runner.run(jobs, progress=progress)
    kl = None
    if reference is not None:
        states = torch.from_numpy(np.concatenate([t.state for t in rollouts]).astype(np.float32))
        with torch.no_grad():
            kl = float(GaussianPolicy(weights).kl_to(reference, states).mean())
    evaluation = PolicyEvaluation(
        success=float(np.mean([t.success for t in rollouts])),
        mean_return=float(np.mean([true_return(t) or 0.0 for t in rollouts])),
        mean_quality=float(quality_scores(rollouts).mean()),
        kl_to_reference=kl,
        episodes=len(rollouts),
    )
    return evaluation, rollouts


@dataclass(frozen=True)
class RewardProbe:
    """How a learned reward ranks trajectories it was not trained on."""

    pair_accuracy: float | None
    """Share of pairs (truth differing) the reward orders as the truth does."""
    spearman: float | None
    """Rank correlation of reward and truth."""
    top_quarter_failures: float
    """Share of the reward's top quarter that failed the task (hacking when high)."""
    truth_top_quarter_failures: float
    """The same share for the truth's own top quarter (the floor)."""

    def as_dict(self) -> dict[str, Any]:
        """The figures as a JSON-ready dict."""
        return asdict(self)


def probe_reward(rewards: np.ndarray, truth: np.ndarray, success: np.ndarray) -> RewardProbe:
    """Compare learned rewards with the truth on the same trajectories.

    >>> p = probe_reward(np.array([1.0, 2, 3, 4]), np.array([1.0, 2, 3, 4]), np.array([0, 0, 1, 1]))
    >>> p.pair_accuracy, p.top_quarter_failures
    (1.0, 0.0)
    """
    rewards, truth = np.asarray(rewards, float), np.asarray(truth, float)
    success = np.asarray(success, bool)
    dr = rewards[:, None] - rewards[None, :]
    dt = truth[:, None] - truth[None, :]
    upper = np.triu(np.ones_like(dt, bool), 1) & (dt != 0)
    accuracy = float(np.mean(np.sign(dr[upper]) == np.sign(dt[upper]))) if upper.any() else None
    rho = None
    if len(rewards) > 2 and np.ptp(rewards) > 0 and np.ptp(truth) > 0:
        rho = float(stats.spearmanr(rewards, truth).statistic)
    k = max(1, len(rewards) // 4)
    top = np.argsort(-rewards, kind="stable")[:k]
    top_truth = np.argsort(-truth, kind="stable")[:k]
    return RewardProbe(
        pair_accuracy=accuracy,
        spearman=rho,
        top_quarter_failures=float(np.mean(~success[top])),
        truth_top_quarter_failures=float(np.mean(~success[top_truth])),
    )

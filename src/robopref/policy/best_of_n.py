"""Best-of-N reranking: sample N trajectories per placement, score them, execute the best.

In simulation a candidate is a whole episode from the same placement (the env is reset to
the same seed), so "executing the best" is keeping the candidate the scorer ranks first;
on a robot the same selection runs over candidates from a world model or a replayed
start state. The policy's own figure is its deterministic (mean-action) rollout from the
same placements, and a candidate drawn at random is the stochastic policy's figure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from robopref.errors import InputError
from robopref.policy.rollouts import RolloutJob, RolloutRunner
from robopref.policy.scorers import TrajectoryScorer
from robopref.pool.trajectory import MetadataValue, Trajectory
from robopref.progress import ProgressCallback, no_progress
from robopref.sim.workers import job_seed


@dataclass(frozen=True, kw_only=True)
class BestOfNConfig:
    """How candidates are drawn."""

    n: int = 8
    """Candidates per placement."""
    noise_scale: float = 1.0
    """Multiplies the policy's σ when sampling candidates."""
    noise_correlation: float = 0.9
    """AR(1) correlation of the candidates' action noise (0: independent per step)."""
    seed: int = 0
    """Seed of the candidates' action noise."""

    def __post_init__(self) -> None:
        if self.n < 1:
            raise InputError("BestOfNConfig", "n", f"must be >= 1, got {self.n}")
        if not self.noise_scale > 0:
            raise InputError("BestOfNConfig", "noise_scale", f"must be > 0, got {self.noise_scale}")
        if not 0 <= self.noise_correlation < 1:
            raise InputError(
                "BestOfNConfig",
                "noise_correlation",
                f"must lie in [0, 1), got {self.noise_correlation}",
            )


@dataclass(frozen=True)
class BestOfNResult:
    """Candidates, their scores and the chosen one per placement."""

    candidates: list[list[Trajectory]]
    """(placements) lists of N candidates."""
    scores: np.ndarray
    """(placements, N) scorer values."""

    @property
    def chosen(self) -> list[Trajectory]:
        """The best-scored candidate of each placement."""
        best = self.scores.argmax(axis=1)
        return [c[int(i)] for c, i in zip(self.candidates, best, strict=True)]

    @property
    def success(self) -> float:
        """Success rate of the chosen candidates."""
        return float(np.mean([t.success for t in self.chosen])) if self.candidates else 0.0

    @property
    def candidate_success(self) -> float:
        """Success rate of all candidates (the stochastic policy without selection)."""
        return float(np.mean([t.success for c in self.candidates for t in c]))


def candidate_jobs(
    task: str,
    weights: Mapping[str, np.ndarray],
    env_seeds: Sequence[int],
    config: BestOfNConfig,
    *,
    source: str = "best_of_n",
    info: Mapping[str, MetadataValue] | None = None,
) -> list[RolloutJob]:
    """N sampling rollouts per placement, placement-major (index = placement · N + k)."""
    return [
        RolloutJob(
            task=task,
            env_seed=int(env_seed),
            weights=dict(weights),
            policy_seed=job_seed(config.seed, task, f"candidate:{env_seed}", k),
            noise_scale=config.noise_scale,
            noise_correlation=config.noise_correlation,
            source=source,
            index=p * config.n + k,
            info={"candidate": k, **(info or {})},
        )
        for p, env_seed in enumerate(env_seeds)
        for k in range(config.n)
    ]


def best_of_n(
    runner: RolloutRunner,
    task: str,
    weights: Mapping[str, np.ndarray],
    env_seeds: Sequence[int],
    scorer: TrajectoryScorer,
    config: BestOfNConfig | None = None,
    *,
    progress: ProgressCallback = no_progress,
) -> BestOfNResult:
    """Roll out N candidates per placement and score them.

    Args:
        runner: An open rollout runner.
        task: Meta-World env name.
        weights: The (stochastic) policy's weights; they need `log_std`.
        env_seeds: Placements.
        scorer: Ranks the candidates of a placement (learned, oracle, with safety...).
        config: N, noise and seed.
        progress: Called per finished rollout.
    """
    config = config or BestOfNConfig()
    jobs = candidate_jobs(task, weights, env_seeds, config)
    trajectories = runner.run(jobs, progress=progress)
    scores = scorer.score(trajectories).reshape(len(env_seeds), config.n)
    grouped = [trajectories[p * config.n : (p + 1) * config.n] for p in range(len(env_seeds))]
    return BestOfNResult(candidates=grouped, scores=scores)

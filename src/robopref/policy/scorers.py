"""What a candidate trajectory is worth: the learned reward, the simulator's, a safety term.

- `LearnedReward`: the reward model's ensemble mean minus k times its spread across members,
  so a trajectory the members disagree on (one unlike anything labelled) is not trusted.
- `OracleReward`: the simulator's own horizon-padded return (`pool.true_return`): the
  baseline a learned reward is measured against, never available for real robots.
- `SafetyPenalty`: rule-based costs from the trajectory's metrics (seed 001): collisions,
  time spent under 2 cm of an obstacle, contact force over a limit.
- `WithSafety`: a reward with the penalty subtracted; the reward is first standardised over
  the candidates scored together, so the penalty's weights read in standard deviations
  whatever the reward's scale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from robopref.errors import InputError
from robopref.pool.config import MetricsConfig
from robopref.pool.metrics import compute_metrics
from robopref.pool.trajectory import Trajectory
from robopref.pool.true_return import true_return
from robopref.reward import RewardModel


class TrajectoryScorer(Protocol):
    """Scores whole trajectories; higher is better."""

    @property
    def name(self) -> str:
        """What the scores are called in reports (`learned`, `oracle`, `…+safety`)."""
        ...

    def score(self, trajectories: Sequence[Trajectory]) -> np.ndarray:
        """(N,) float64 scores."""
        ...


@dataclass
class LearnedReward:
    """The reward model's ensemble mean − k · std over members.

    Args:
        model: A trained reward model (one member gives std 0).
        k: Weight of the members' spread (0: the plain mean).
    """

    model: RewardModel
    k: float = 1.0
    name: str = "learned"

    def score(self, trajectories: Sequence[Trajectory]) -> np.ndarray:
        """Mean − k · std of the members' rewards."""
        if not trajectories:
            return np.zeros(0)
        members = self.model.score_members(trajectories).astype(np.float64)
        return np.asarray(members.mean(axis=1) - self.k * members.std(axis=1), np.float64)


@dataclass
class OracleReward:
    """The simulator's return (benchmark ground truth)."""

    name: str = "oracle"

    def score(self, trajectories: Sequence[Trajectory]) -> np.ndarray:
        """`true_return` of each trajectory.

        Raises:
            InputError: A trajectory without an env reward series.
        """
        out = []
        for traj in trajectories:
            value = true_return(traj)
            if value is None:
                raise InputError(traj.trajectory_id, "env_reward", "no simulator reward")
            out.append(value)
        return np.array(out, np.float64)


@dataclass(frozen=True, kw_only=True)
class SafetyPenalty:
    """Rule-based safety costs of a trajectory (seed 001), in the units of `WithSafety`."""

    major_collision: float = 1.0
    """Cost per major collision (a strong contact or a toppled object)."""
    minor_collision: float = 0.25
    """Cost per minor collision."""
    danger_fraction: float = 1.0
    """Cost of spending the whole episode under `metrics.danger_m` (2 cm) of an obstacle."""
    force_limit_n: float | None = None
    """Peak contact force allowed; None: no force term (Meta-World grasps read 600–1,100 N)."""
    over_force: float = 1.0
    """Cost when the peak force exceeds `force_limit_n`."""
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    """Thresholds of the collision and clearance metrics."""

    def cost(self, trajectories: Sequence[Trajectory]) -> np.ndarray:
        """(N,) non-negative costs."""
        out = []
        for traj in trajectories:
            m = compute_metrics(traj, self.metrics)
            cost = self.major_collision * m.major_collisions
            cost += self.minor_collision * m.minor_collisions
            cost += self.danger_fraction * (m.frac_under_2cm or 0.0)
            if self.force_limit_n is not None and m.peak_force_n > self.force_limit_n:
                cost += self.over_force
            out.append(cost)
        return np.array(out, np.float64)


@dataclass
class WithSafety:
    """A reward, standardised over the candidates scored together, minus a safety cost."""

    reward: TrajectoryScorer
    safety: SafetyPenalty

    @property
    def name(self) -> str:
        """`<reward>+safety`."""
        return f"{self.reward.name}+safety"

    def score(self, trajectories: Sequence[Trajectory]) -> np.ndarray:
        """z(reward) − cost."""
        raw = self.reward.score(trajectories)
        z = (raw - raw.mean()) / raw.std() if len(raw) > 1 and raw.std() > 0 else raw * 0.0
        return np.asarray(z - self.safety.cost(trajectories), np.float64)

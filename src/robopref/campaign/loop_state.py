"""What the policy loop carries from round to round, its settings and one round's record."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import pandas as pd

from robopref.errors import InputError
from robopref.policy.best_of_n import BestOfNConfig
from robopref.policy.finetune import FinetuneConfig
from robopref.policy.gaussian import GaussianPolicy
from robopref.pool.trajectory import Trajectory
from robopref.reward import RewardModel


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
    cpu_seconds: float = 0.0
    """CPU time of this process and its rollout worker processes (not Ray's) in the round."""

    def as_dict(self) -> dict[str, Any]:
        """The row as a JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RoundRecord:
        """The record of `as_dict` (unknown keys ignored)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


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
    tiers: list[tuple[int, str]] = field(default_factory=list)
    """(round, tier) of every rollout batch so far."""
    loop_id: str | None = None
    """The work folder's run id, recorded with every rollout (None: no work folder)."""


def extend_rollouts(state: LoopState, rollouts: list[Trajectory], *, round_: int) -> None:
    """Add a round's rollouts to the state, each grouped with its placement's candidates."""
    # The advantage baseline of a rollout is the other candidates from its placement and round.
    state.rollouts += rollouts
    state.groups += [round_ * 1_000_000 + int(t.metadata["seed"] or 0) for t in rollouts]

"""The scorer protocol: what validation, active selection and AI labelers need from a reward.

A scorer gives one scalar per trajectory (`score`) and the Bradley–Terry probability that
one trajectory is preferred to another (`prefer`), computed from the same scores. An
ensemble scorer also gives each member's scores (`score_members`), the disagreement that
active selection looks for. `robopref.reward.RewardModel` is one; `TableScorer` (rewards
read from a table) is another. The protocols are generic in what they score, so this module
sits at the base layer and needs nothing from the pool: `Scorer[Trajectory]` is what
validation takes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol, TypeVar, runtime_checkable

import numpy as np

from robopref.errors import InputError

T_contra = TypeVar("T_contra", contravariant=True)


@runtime_checkable
class Scorer(Protocol[T_contra]):
    """Anything that scores trajectories: a reward model, a table of rewards, a labeler's model."""

    def score(self, trajectories: Sequence[T_contra]) -> np.ndarray:
        """(N,) one finite reward per trajectory, higher is better."""
        ...

    def prefer(self, a: Sequence[T_contra], b: Sequence[T_contra]) -> np.ndarray:
        """(N,) P(a[i] ≻ b[i]) = σ(score(a[i]) − score(b[i])) (Bradley–Terry)."""
        ...


@runtime_checkable
class EnsembleScorer(Scorer[T_contra], Protocol[T_contra]):
    """A scorer made of M members; `score` is their mean."""

    def score_members(self, trajectories: Sequence[T_contra]) -> np.ndarray:
        """(N, M) each trajectory's reward under each member."""
        ...


class Identified(Protocol):
    """Anything with a trajectory id (a `Trajectory`, a pool row)."""

    @property
    def trajectory_id(self) -> str:
        """The trajectory's id in its pool."""
        ...


def bradley_terry(reward_a: np.ndarray, reward_b: np.ndarray) -> np.ndarray:
    """P(a ≻ b) = σ(r_a − r_b), elementwise, without overflow for large gaps.

    >>> bradley_terry(np.array([0.0, 2.0, -800.0]), np.array([0.0, 0.0, 0.0])).round(4).tolist()
    [0.5, 0.8808, 0.0]
    """
    diff = np.asarray(reward_a, np.float64) - np.asarray(reward_b, np.float64)
    out = np.empty_like(diff)
    positive = diff >= 0
    out[positive] = 1.0 / (1.0 + np.exp(-diff[positive]))
    exp = np.exp(diff[~positive])
    out[~positive] = exp / (1.0 + exp)
    return out


def prefer_from_scores(
    scorer: Scorer[T_contra], a: Sequence[T_contra], b: Sequence[T_contra]
) -> np.ndarray:
    """`prefer` for any scorer: one `score` call over a + b, then `bradley_terry`.

    Raises:
        InputError: `a` and `b` differ in length.
    """
    if len(a) != len(b):
        raise InputError("prefer", "b", f"{len(b)} trajectories for {len(a)} in a")
    scores = np.asarray(scorer.score([*a, *b]), np.float64).reshape(-1)
    return bradley_terry(scores[: len(a)], scores[len(a) :])


class TableScorer:
    """A scorer over precomputed rewards (`trajectory_id` → reward), e.g. a `rewards.parquet`.

    Args:
        rewards: Trajectory id → finite reward.
        origin: The file (or description) named in errors.

    Raises:
        InputError: A reward is not finite.
    """

    def __init__(self, rewards: Mapping[str, float], *, origin: str | Path = "rewards") -> None:
        self.rewards = {str(k): float(v) for k, v in rewards.items()}
        self.origin = origin
        bad = [k for k, v in self.rewards.items() if not np.isfinite(v)]
        if bad:
            raise InputError(origin, "reward", f"not finite for {bad[:5]}")

    def score(self, trajectories: Sequence[Identified]) -> np.ndarray:
        """(N,) the table's rewards of `trajectories`, as float64.

        Raises:
            InputError: A trajectory the table has no reward for.
        """
        ids = [t.trajectory_id for t in trajectories]
        missing = [i for i in ids if i not in self.rewards]
        if missing:
            raise InputError(self.origin, "trajectory_id", f"no reward for {missing[:5]}")
        return np.array([self.rewards[i] for i in ids], np.float64)

    def prefer(self, a: Sequence[Identified], b: Sequence[Identified]) -> np.ndarray:
        """(N,) σ(r(a[i]) − r(b[i]))."""
        return prefer_from_scores(self, a, b)

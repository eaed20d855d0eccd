"""Ensembles of reward networks: bootstrap resampling, and one module scoring with all members."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from robopref.reward.config import Bootstrap
from robopref.reward.data import PairData
from robopref.reward.model import RewardNet
from robopref.reward.pretrained import Frontend


def bootstrap_indices(n: int, *, seed: int) -> np.ndarray:
    """(n,) indices drawn with replacement (Efron's bootstrap) for one ensemble member.

    >>> bootstrap_indices(4, seed=0).shape
    (4,)
    """
    return np.random.default_rng(seed).integers(0, n, size=n)


def bayesian_bootstrap_weights(n: int, *, seed: int) -> np.ndarray:
    """(n,) float32 Exp(1) weights (mean 1): Rubin's Bayesian bootstrap for one member.

    >>> w = bayesian_bootstrap_weights(10_000, seed=0)
    >>> w.dtype.name, bool(abs(w.mean() - 1) < 0.05), bool((w > 0).all())
    ('float32', True, True)
    """
    return np.random.default_rng(seed).exponential(1.0, size=n).astype(np.float32)


def member_seed(seed: int, member: int) -> int:
    """The seed of ensemble member `member` of a run seeded `seed`.

    >>> member_seed(0, 2)
    2002
    """
    return seed * 7919 + 1000 * member + member


class EnsembleNet(nn.Module):
    """All members at once: (mean reward (B,), member rewards (B, M)).

    The mean is the ensemble's score; the spread across members is its uncertainty
    (seed 001: 3–5 models with different seeds, predictions averaged). A pretrained-backbone
    ensemble has one shared frozen `frontend`: raw frames (B, T, C, H, W, 3) uint8 are embedded
    once and every member reads the features; features (float) skip it.
    """

    def __init__(self, members: Sequence[RewardNet], frontend: Frontend | None = None) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)
        self.frontend = frontend

    def forward(
        self,
        x: torch.Tensor,
        task_embedding: torch.Tensor | None = None,
        steps: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Score a batch with every member."""
        if self.frontend is not None and x.dtype == torch.uint8:
            x = self.frontend(x)
        rewards = torch.stack([m(x, task_embedding, steps) for m in self.members], dim=1)
        return rewards.mean(dim=1), rewards


def spread(values: Sequence[float]) -> dict[str, float]:
    """Mean and standard deviation (ddof 0) of per-member figures.

    >>> spread([0.8, 1.0])
    {'mean': 0.9, 'std': 0.1}
    """
    arr = np.asarray(values, np.float64)
    return {"mean": round(float(arr.mean()), 12), "std": round(float(arr.std()), 12)}


def member_view(train: PairData, bootstrap: Bootstrap, *, seed: int) -> PairData:
    """The training pairs one ensemble member sees under `bootstrap`."""
    if bootstrap is Bootstrap.RESAMPLE:
        return train.subset(bootstrap_indices(len(train.a), seed=seed))
    if bootstrap is Bootstrap.WEIGHTS:
        extra = torch.from_numpy(bayesian_bootstrap_weights(len(train.a), seed=seed))
        t = train.targets
        return train._replace(targets=t._replace(weight=t.weight * extra))
    return train

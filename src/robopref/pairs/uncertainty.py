"""Ranking candidate pairs by how unsure a reward ensemble is, and picking a diverse batch.

Seed 004 (PEBBLE, SURF): the pairs worth a human label are those the model cannot tell apart
— a predicted gap within 0.5 σ of the reward spread — and, with an ensemble, those its
members disagree on. A batch of the top pairs alone tends to reuse the few trajectories
nearest the middle; a greedy pick with a per-use penalty and a cap spreads it out.
"""

from __future__ import annotations

import logging
from typing import NamedTuple

import numpy as np

from robopref.pairs.config import ActiveConfig
from robopref.scoring import bradley_terry

logger = logging.getLogger(__name__)


class Uncertainty(NamedTuple):
    """Per-candidate measures, each (C,)."""

    gap_sigma: np.ndarray
    """|r̄(A) − r̄(B)| in units of σ (the group's spread of ensemble-mean rewards)."""
    disagreement: np.ndarray
    """Variance over members of P_m(A ≻ B) (0 for one member)."""
    priority: np.ndarray
    """What the pick maximises: 1 inside the gap window, plus closeness and disagreement
    ranks in [0, 1]."""


def uncertainty(
    members: np.ndarray, ia: np.ndarray, ib: np.ndarray, sigma: np.ndarray, config: ActiveConfig
) -> Uncertainty:
    """Score candidates (ia[k], ib[k]) from member rewards.

    Args:
        members: (N, M) member rewards of the scored trajectories.
        ia: (C,) rows of the A trajectories in `members`.
        ib: (C,) rows of the B trajectories.
        sigma: (C,) the spread σ > 0 each candidate's gap is measured in.
        config: Gap window and disagreement weight.

    >>> m = np.array([[0.0, 0.0], [0.1, -0.1], [3.0, 3.0]])
    >>> u = uncertainty(m, np.array([0, 0]), np.array([1, 2]), np.ones(2), ActiveConfig())
    >>> int(u.priority.argmax()), bool(u.disagreement[0] > u.disagreement[1])
    (0, True)
    """
    mean = members.mean(axis=1)
    gap_sigma = np.abs(mean[ia] - mean[ib]) / sigma
    p = bradley_terry(members[ia], members[ib])  # (C, M) each member's P(A ≻ B)
    disagreement = p.var(axis=1) if members.shape[1] > 1 else np.zeros(len(ia))
    closeness = _rank01(-gap_sigma)
    spread = _rank01(disagreement) if np.ptp(disagreement) > 0 else np.zeros(len(ia))
    inside = (gap_sigma <= config.gap_window).astype(np.float64)
    priority = inside + (closeness + config.disagreement_weight * spread) / (
        1.0 + config.disagreement_weight
    )
    return Uncertainty(gap_sigma=gap_sigma, disagreement=disagreement, priority=priority)


def _rank01(values: np.ndarray) -> np.ndarray:
    """Ranks scaled to [0, 1] (ties share the mean rank); 1 is the largest."""
    if len(values) < 2:
        return np.ones(len(values))
    order = values.argsort(kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(len(values))
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    return (sums / counts)[inverse] / (len(values) - 1)


def pick_diverse(
    priority: np.ndarray, ta: np.ndarray, tb: np.ndarray, k: int, config: ActiveConfig
) -> np.ndarray:
    """Greedily pick `k` candidates by priority minus a penalty per earlier use of A or B.

    A trajectory in `config.max_per_trajectory` picks already is not picked again; when that
    cap leaves too few candidates it is raised one step at a time (logged).

    Args:
        priority: (C,) candidate priorities (higher first).
        ta: (C,) trajectory index of each candidate's A.
        tb: (C,) trajectory index of each candidate's B.
        k: Picks wanted (fewer only when there are fewer candidates).
        config: Penalty and cap.

    Returns:
        Candidate indices in pick order.

    >>> pick_diverse(np.array([3.0, 2.9, 1.0]), np.array([0, 0, 1]), np.array([2, 3, 4]), 2,
    ...              ActiveConfig(diversity_penalty=5.0)).tolist()
    [0, 2]
    """
    k = min(k, len(priority))
    uses = np.zeros(int(max(ta.max(initial=0), tb.max(initial=0))) + 1, np.int64)
    free = np.ones(len(priority), bool)
    cap = config.max_per_trajectory
    picked: list[int] = []
    while len(picked) < k:
        used = uses[ta] + uses[tb]
        allowed = free & (uses[ta] < cap) & (uses[tb] < cap)
        if not allowed.any():
            cap += 1
            logger.warning("candidates too few for the diversity cap; raising it to %d", cap)
            continue
        value = np.where(allowed, priority - config.diversity_penalty * used, -np.inf)
        best = int(value.argmax())
        picked.append(best)
        free[best] = False
        uses[ta[best]] += 1
        uses[tb[best]] += 1
    return np.array(picked, np.int64)

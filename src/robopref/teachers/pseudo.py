"""Pseudo-labels: confident reward-ensemble predictions on unlabelled pairs (SURF; DROID).

Seed 001's DROID recipe: train on the human labels, score the unlabelled trajectories, and
pair the top 20 % of predicted reward with the bottom 20 % (same task); SURF (Park et al.
2022) keeps a pseudo-label only where the ensemble is confident, P ≥ τ. Each kept pair is
weighted by that confidence, so noise costs little. The table has the preferences columns
(`num_annotators` 0, `annotator_ids` `["pseudo"]`) plus `weight` and `label_source`, which
reward training reads: pseudo-labels are trained on, never held out for validation or test.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

from robopref.pairs.sampling import Cell, water_fill
from robopref.pairs.scores import ScoreCache, member_scores
from robopref.pool.pool import Pool
from robopref.pool.trajectory import Trajectory
from robopref.scoring import Scorer, bradley_terry

logger = logging.getLogger(__name__)

PSEUDO = "pseudo"
"""`label_source`, `source` and the one annotator id of every pseudo-label."""


@dataclass(frozen=True, kw_only=True)
class PseudoConfig:
    """Which unlabelled pairs get pseudo-labels, and how much each weighs."""

    tail_frac: float = 0.2
    """Share of each task's trajectories at the top, and at the bottom, of predicted reward
    (DROID, seed 001: 20 %); pairs join one from each end."""
    threshold: float = 0.9
    """Smallest ensemble confidence max(P, 1 − P) a kept pseudo-label has (SURF's τ)."""
    max_pairs: int = 2000
    """Most candidate pairs drawn (spread over tasks ∝ their top × bottom pairs)."""
    weight_scale: float = 1.0
    """Weight of a fully confident pseudo-label (SURF's λ); a label at confidence c weighs
    weight_scale · (2c − 1)."""
    seed: int = 0
    """Seeds which candidates are drawn and which side is A."""

    def __post_init__(self) -> None:
        if not 0.0 < self.tail_frac <= 0.5:
            raise ValueError(f"tail_frac must be in (0, 0.5], got {self.tail_frac}")
        if not 0.5 <= self.threshold < 1.0:
            raise ValueError(f"threshold must be in [0.5, 1), got {self.threshold}")
        if self.max_pairs < 1:
            raise ValueError(f"max_pairs must be ≥ 1, got {self.max_pairs}")
        if not 0.0 < self.weight_scale <= 1.0:
            raise ValueError(f"weight_scale must be in (0, 1], got {self.weight_scale}")


class PseudoLabels(NamedTuple):
    """What `pseudo_label` returns."""

    labels: pd.DataFrame
    """The kept pairs: preferences columns plus `weight` and `label_source`."""
    candidates: pd.DataFrame
    """Every candidate: `trajectory_a_id`, `trajectory_b_id`, `task`, `p_a` (ensemble
    P(A ≻ B)), `confidence` (max(p_a, 1 − p_a)) and `kept`."""


def pseudo_label(
    pool: Pool,
    scorer: Scorer[Trajectory],
    *,
    config: PseudoConfig | None = None,
    labelled: Collection[tuple[str, str]] = (),
    cache: ScoreCache | None = None,
) -> PseudoLabels:
    """Pseudo-label top-versus-bottom pairs of each task where the ensemble is confident.

    Args:
        pool: The pool; every trajectory of it is scored (once, through `cache`).
        scorer: The reward model; with an `EnsembleScorer`, P is the members' mean
            P_m(A ≻ B) and `agreement` the share of members on the label's side.
        config: Tails, threshold, candidate count, weight scale and seed.
        labelled: Pairs already labelled by people (either order); never pseudo-labelled.
        cache: Member scores kept across calls (e.g. the one active selection used).

    Raises:
        InputError: The scorer cannot read a trajectory.
    """
    config = config or PseudoConfig()
    manifest = pool.manifest
    ids = manifest["trajectory_id"].astype(str).to_numpy()
    tasks = manifest["task"].astype(str).to_numpy()
    members = member_scores(scorer, pool, ids.tolist(), cache=cache)
    ia, ib = _candidates(members.mean(axis=1), tasks, ids, labelled, config)
    p_members = bradley_terry(members[ia], members[ib])  # (C, M) each member's P(A ≻ B)
    p_a = p_members.mean(axis=1)
    a_wins = p_a >= 0.5
    confidence = np.where(a_wins, p_a, 1.0 - p_a)
    agreement = ((p_members >= 0.5) == a_wins[:, None]).mean(axis=1)
    candidates = pd.DataFrame(
        {
            "trajectory_a_id": ids[ia],
            "trajectory_b_id": ids[ib],
            "task": tasks[ia],
            "p_a": p_a,
            "confidence": confidence,
            "kept": confidence >= config.threshold,
        }
    )
    kept = candidates["kept"].to_numpy()
    labels = _table(candidates[kept], a_wins[kept], agreement[kept], config)
    logger.info(
        "pseudo-labels: kept %d of %d candidates at confidence ≥ %.2f",
        int(kept.sum()), len(candidates), config.threshold,
    )  # fmt: skip
    return PseudoLabels(labels=labels, candidates=candidates)


def _candidates(
    mean: np.ndarray,
    tasks: np.ndarray,
    ids: np.ndarray,
    labelled: Collection[tuple[str, str]],
    config: PseudoConfig,
) -> tuple[np.ndarray, np.ndarray]:
    """Rows (A, B) of unlabelled top × bottom pairs per task, sides drawn at random."""
    excluded = {frozenset(p) for p in labelled}
    cells = []
    for task in sorted(set(tasks.tolist())):
        rows = np.flatnonzero(tasks == task)
        n_tail = int(np.floor(config.tail_frac * len(rows)))
        order = rows[np.argsort(mean[rows], kind="stable")]
        top, bottom = order[len(rows) - n_tail :], order[:n_tail]
        cells.append(Cell(group=task, quartiles=(4, 1), left=top, right=bottom))
    caps = np.array([c.capacity for c in cells], np.int64)
    counts = water_fill(caps.astype(float), caps, config.max_pairs)

    def reject(ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
        pairs = zip(ids[ia], ids[ib], strict=True)
        return np.fromiter((frozenset(p) in excluded for p in pairs), bool, count=len(ia))

    rng = np.random.default_rng([config.seed, 11])
    drawn = [c.sample(int(k), rng=rng, reject=reject) for c, k in zip(cells, counts, strict=True)]
    top = np.concatenate([t for t, _ in drawn] or [np.zeros(0, np.int64)]).astype(np.int64)
    bottom = np.concatenate([b for _, b in drawn] or [np.zeros(0, np.int64)]).astype(np.int64)
    swap = rng.random(len(top)) < 0.5
    return np.where(swap, bottom, top), np.where(swap, top, bottom)


def _table(
    kept: pd.DataFrame, a_wins: np.ndarray, agreement: np.ndarray, config: PseudoConfig
) -> pd.DataFrame:
    """Preferences rows of the kept candidates (hard labels, confidence-weighted)."""
    n = len(kept)
    certainty = 2.0 * kept["confidence"].to_numpy(float) - 1.0  # 0 at P = 0.5, 1 at P = 1
    return pd.DataFrame(
        {
            "pair_id": [f"pseudo-{config.seed}-{i:06d}" for i in range(n)],
            "trajectory_a_id": kept["trajectory_a_id"].to_numpy(),
            "trajectory_b_id": kept["trajectory_b_id"].to_numpy(),
            "preference": np.where(a_wins, 1.0, 0.0),
            "confidence_mean": 1.0 + 4.0 * certainty,  # the 1–5 scale of annotator confidence
            "num_annotators": np.zeros(n, np.int32),
            "agreement": agreement.astype(np.float64),
            "annotator_ids": [[PSEUDO] for _ in range(n)],
            "task": kept["task"].to_numpy(),
            "source": PSEUDO,
            "weight": config.weight_scale * certainty,
            "label_source": PSEUDO,
        }
    )

"""Held-out evaluation for label-efficiency runs: trajectories never labelled, judged by truth."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from robopref.pool.pool import Pool
from robopref.pool.trajectory import Trajectory
from robopref.scoring import Scorer


@dataclass(frozen=True)
class HeldOut:
    """Trajectories kept out of every batch, and truth-labelled pairs among them."""

    train_ids: tuple[str, ...]
    test_ids: tuple[str, ...]
    pairs: pd.DataFrame
    """`trajectory_a_id`, `trajectory_b_id`, `preference` (1.0: A has the higher truth)."""


def split_held_out(
    manifest: pd.DataFrame, truth: pd.Series, *, fraction: float, n_pairs: int, seed: int
) -> HeldOut:
    """Hold out `fraction` of each task's trajectories and draw `n_pairs` same-task test pairs.

    Args:
        manifest: The pool manifest (`trajectory_id`, `task`).
        truth: Trajectory id → ground-truth value (higher is better).
        fraction: Share of each task's trajectories held out (at least two per task).
        n_pairs: Test pairs, spread over tasks by their held-out counts; ties in truth skipped.
        seed: Which trajectories and pairs.
    """
    rng = np.random.default_rng([seed, 11])
    train: list[str] = []
    test: list[str] = []
    for _, frame in manifest.groupby("task", sort=True):
        shuffled = [str(i) for i in rng.permutation(frame["trajectory_id"].astype(str).tolist())]
        k = max(2, round(fraction * len(shuffled)))
        test.extend(shuffled[:k])
        train.extend(shuffled[k:])
    task_of = manifest.set_index("trajectory_id")["task"].astype(str)
    rows: list[tuple[str, str, float]] = []
    for _, group in pd.Series(test).groupby(task_of.loc[test].to_numpy()):
        ids = [str(i) for i in group]
        want = max(1, round(n_pairs * len(ids) / len(test)))
        seen: set[frozenset[str]] = set()
        for _ in range(want * 4):  # ties and repeats are skipped: draw spares
            if len(seen) == want:
                break
            a, b = (str(x) for x in rng.choice(ids, size=2, replace=False))
            if truth[a] != truth[b] and frozenset((a, b)) not in seen:
                seen.add(frozenset((a, b)))
                rows.append((a, b, 1.0 if truth[a] > truth[b] else 0.0))
    pairs = pd.DataFrame(rows, columns=["trajectory_a_id", "trajectory_b_id", "preference"])
    return HeldOut(tuple(train), tuple(test), pairs)


def held_out_scores(
    scorer: Scorer[Trajectory], pool: Pool, held: HeldOut, manifest: pd.DataFrame, truth: pd.Series
) -> tuple[float, float]:
    """(accuracy on the held-out truth pairs, mean per-task Spearman ρ against truth)."""
    ids = list(held.test_ids)
    scores = pd.Series(np.asarray(scorer.score([pool[i] for i in ids]), float), index=ids)
    pairs = held.pairs
    gap = scores[pairs["trajectory_a_id"]].to_numpy() - scores[pairs["trajectory_b_id"]].to_numpy()
    accuracy = float(np.mean((gap > 0) == (pairs["preference"].to_numpy() > 0.5)))
    task_of = manifest.set_index("trajectory_id")["task"].astype(str)
    rhos = []
    for _, group in pd.Series(ids).groupby(task_of.loc[ids].to_numpy()):
        members = [str(i) for i in group]
        if len(members) >= 3 and truth.loc[members].nunique() > 1:
            rho = spearmanr(scores.loc[members], truth.loc[members]).statistic
            rhos.append(float(rho))
    return accuracy, float(np.mean(rhos)) if rhos else float("nan")

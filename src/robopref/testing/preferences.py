"""Synthetic preference tables from a pool's ground truth: a B-Pref style simulated teacher."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from robopref.atomic import write_atomic
from robopref.pool.pool import Pool
from robopref.schemas import PREFERENCES_SCHEMA


def candidate_pairs(pool: Pool, *, same_task: bool = True) -> list[tuple[str, str]]:
    """Every unordered pair of distinct trajectories (within one task if `same_task`)."""
    m = pool.manifest
    groups = m.groupby("task")["trajectory_id"] if same_task else [("", m["trajectory_id"])]
    return [pair for _, ids in groups for pair in itertools.combinations(sorted(ids), 2)]


def synthetic_preferences(
    pool: Pool,
    *,
    n_pairs: int,
    seed: int = 0,
    epsilon: float = 0.0,
    equal_threshold: float = 0.0,
    beta: float | None = None,
    truth: str = "quality_score",
    same_task: bool = True,
) -> pd.DataFrame:
    """Label random pairs with a simulated teacher (Lee et al. 2021, B-Pref).

    The teacher compares the ground-truth column `truth` (higher is better): |Δ| below
    `equal_threshold` is a tie (B-Pref 'equal'); otherwise A wins with probability
    σ(β·Δ) ('stochastic'; None = always the better one, 'oracle'); then the answer is
    flipped with probability `epsilon` ('mistake'; ties stay ties). Confidence (1–5) grows
    with |Δ| relative to the pool's spread; one annotator per pair, agreement 1.

    Args:
        pool: Pool with the `truth` column in its manifest.
        n_pairs: Pairs to label (at most the number of candidate pairs).
        seed: Seeds pair choice, A/B order and the teacher's noise.
        epsilon: Mistake probability in [0, 1].
        equal_threshold: |Δ| under which the teacher answers 'equal'.
        beta: Rationality of the stochastic teacher; None for a rational one.
        truth: Manifest column holding the ground truth.
        same_task: Pair only trajectories of the same task.

    Returns:
        A DataFrame with the PREFERENCES_SCHEMA columns.

    Raises:
        ValueError: Not enough candidate pairs, or a bad argument (named).
    """
    if not 0.0 <= epsilon <= 1.0:
        raise ValueError(f"epsilon: must lie in [0, 1], got {epsilon}")
    candidates = candidate_pairs(pool, same_task=same_task)
    if not 0 < n_pairs <= len(candidates):
        raise ValueError(f"n_pairs: {n_pairs} outside [1, {len(candidates)}] candidate pairs")
    rng = np.random.default_rng(seed)
    pairs = _choose(candidates, n_pairs, rng)
    ids = pool.manifest["trajectory_id"]
    value = dict(zip(ids, pool.manifest[truth].astype(float), strict=True))
    task = dict(zip(ids, pool.manifest["task"], strict=True))
    delta = np.array([value[a] - value[b] for a, b in pairs])
    preference = _teacher(delta, rng, epsilon=epsilon, equal_threshold=equal_threshold, beta=beta)
    scale = float(np.ptp(list(value.values()))) or 1.0
    confidence = np.clip(np.rint(1 + 8 * np.abs(delta) / scale), 1, 5)
    return _table(pairs, preference, confidence, task=task, seed=seed)


def _table(
    pairs: list[tuple[str, str]],
    preference: np.ndarray,
    confidence: np.ndarray,
    *,
    task: dict[str, str],
    seed: int,
) -> pd.DataFrame:
    """Rows of PREFERENCES_SCHEMA for a single simulated annotator."""
    n = len(pairs)
    return pd.DataFrame(
        {
            "pair_id": [f"syn-pair-{seed}-{i:06d}" for i in range(n)],
            "trajectory_a_id": [a for a, _ in pairs],
            "trajectory_b_id": [b for _, b in pairs],
            "preference": preference,
            "confidence_mean": confidence.astype(np.float64),
            "num_annotators": np.ones(n, np.int32),
            "agreement": np.ones(n),
            "annotator_ids": [["teacher:bpref"] for _ in range(n)],
            "task": [task[a] for a, _ in pairs],
            "source": "simulated:bpref",
        }
    )


def _choose(
    candidates: list[tuple[str, str]], n_pairs: int, rng: np.random.Generator
) -> list[tuple[str, str]]:
    """`n_pairs` distinct candidates, each in random A/B order."""
    chosen = [candidates[i] for i in rng.choice(len(candidates), size=n_pairs, replace=False)]
    swap = rng.random(n_pairs) < 0.5
    return [(b, a) if s else (a, b) for (a, b), s in zip(chosen, swap, strict=True)]


def _teacher(
    delta: np.ndarray,
    rng: np.random.Generator,
    *,
    epsilon: float,
    equal_threshold: float,
    beta: float | None,
) -> np.ndarray:
    if beta is None:
        a_wins = delta > 0
    else:
        a_wins = rng.random(len(delta)) < 1.0 / (1.0 + np.exp(-beta * delta))
    mistake = rng.random(len(delta)) < epsilon
    preference = np.where(a_wins ^ mistake, 1.0, 0.0)
    return np.where(np.abs(delta) < equal_threshold, 0.5, preference)


def write_preferences(frame: pd.DataFrame, path: Path) -> Path:
    """Write a preferences table as Parquet with PREFERENCES_SCHEMA (temp file, then rename)."""
    table = pa.Table.from_pandas(frame, schema=PREFERENCES_SCHEMA, preserve_index=False)
    return write_atomic(path, lambda tmp: pq.write_table(table, tmp))

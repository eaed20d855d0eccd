"""Inputs of validation: held-out pairs and per-trajectory rewards, read and checked.

Rewards come from a model (a `robopref.scoring.Scorer[Trajectory]`, such as
`robopref.reward.load(path)`) or from a table of precomputed rewards.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from robopref.errors import InputError
from robopref.pool.pool import Pool
from robopref.pool.trajectory import Trajectory
from robopref.progress import ProgressCallback, no_progress
from robopref.schemas import LABELLED_PAIR_COLUMNS, PREFERENCES_TABLE, REWARDS_TABLE
from robopref.scoring import Scorer
from robopref.tables import check_table, read_table_file


def check_pairs(pairs: pd.DataFrame, pool: Pool, *, origin: str | Path) -> pd.DataFrame:
    """Check held-out pairs against the preferences schema and the pool.

    Args:
        pairs: Rows with at least `LABELLED_PAIR_COLUMNS`.
        pool: The pool whose trajectories the pairs compare.
        origin: File (or description) named in errors.

    Returns:
        The pairs with a fresh index and `preference` as float64.

    Raises:
        InputError: A column is missing, a value is of the wrong type or out of range (a
            preference outside [0, 1]), a pair id repeats, or a trajectory is not in the pool.
    """
    out = check_table(pairs, PREFERENCES_TABLE, origin=origin, require=LABELLED_PAIR_COLUMNS)
    return _in_pool(out, pool, origin)


def load_pairs(path: Path, pool: Pool) -> pd.DataFrame:
    """Read held-out pairs from `preferences.parquet`/`.jsonl` and check them."""
    pairs = read_table_file(path, PREFERENCES_TABLE, require=LABELLED_PAIR_COLUMNS)
    return _in_pool(pairs, pool, path)


def _in_pool(pairs: pd.DataFrame, pool: Pool, origin: str | Path) -> pd.DataFrame:
    for column in ("trajectory_a_id", "trajectory_b_id"):
        unknown = sorted(set(pairs[column].astype(str)) - set(pool.manifest["trajectory_id"]))
        if unknown:
            raise InputError(origin, column, f"not in pool {pool.root}: {unknown[:5]}")
    return pairs


def load_rewards(path: Path, pool: Pool) -> dict[str, float]:
    """Read precomputed rewards (`trajectory_id`, `reward`) covering every pool trajectory."""
    table = read_table_file(path, REWARDS_TABLE)
    rewards = dict(zip(table["trajectory_id"].astype(str), table["reward"], strict=True))
    return check_rewards(rewards, pool, origin=path)


def check_rewards(
    rewards: Mapping[str, float], pool: Pool, *, origin: str | Path
) -> dict[str, float]:
    """Check that rewards are finite and cover every pool trajectory."""
    missing = [t for t in pool.manifest["trajectory_id"] if t not in rewards]
    if missing:
        raise InputError(origin, "trajectory_id", f"no reward for {len(missing)}: {missing[:5]}")
    out = {str(k): float(v) for k, v in rewards.items()}
    bad = [k for k, v in out.items() if not np.isfinite(v)]
    if bad:
        raise InputError(origin, "reward", f"not finite for {bad[:5]}")
    return out


def score_pool(
    pool: Pool,
    scorer: Scorer[Trajectory],
    *,
    batch_size: int,
    progress: ProgressCallback = no_progress,
) -> dict[str, float]:
    """Score every trajectory of the pool, `batch_size` at a time.

    A scorer with a `check_pool(pool)` method (`robopref.reward.RewardModel`) first checks,
    once, that it can read the pool (state and action widths, camera, instructions).

    Raises:
        InputError: A model that does not fit the pool, or a scorer that returns the wrong
            number of rewards or non-finite ones.
    """
    check_pool = getattr(scorer, "check_pool", None)
    if callable(check_pool):
        check_pool(pool)
    ids = [str(t) for t in pool.manifest["trajectory_id"]]
    rewards: dict[str, float] = {}
    for start in range(0, len(ids), batch_size):
        batch = ids[start : start + batch_size]
        scores = np.asarray(scorer.score([pool[t] for t in batch]), dtype=np.float64).reshape(-1)
        if scores.shape != (len(batch),):
            raise InputError("reward model", "score", f"{scores.shape} for {len(batch)} inputs")
        rewards.update(zip(batch, scores.tolist(), strict=True))
        progress(min(start + batch_size, len(ids)), len(ids))
    return check_rewards(rewards, pool, origin="reward model")

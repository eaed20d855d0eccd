"""Inputs of validation: held-out pairs and per-trajectory rewards, read and checked.

Rewards come from a model (anything with `score(trajectories) -> np.ndarray`, such as
`robopref.reward.load(path)`) or from a table of precomputed rewards.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from robopref.errors import InputError
from robopref.pool.pool import Pool
from robopref.pool.trajectory import Trajectory
from robopref.progress import ProgressCallback, no_progress

PAIR_COLUMNS = ("pair_id", "trajectory_a_id", "trajectory_b_id", "preference")
"""Columns validation needs from a preferences-schema file (others are kept)."""
REWARD_COLUMNS = ("trajectory_id", "reward")
"""Columns of a rewards table (`rewards.parquet`, written by every validation run)."""


class RewardScorer(Protocol):
    """What validation needs from a reward model."""

    def score(self, trajectories: Sequence[Trajectory]) -> np.ndarray:
        """(N,) one scalar reward per trajectory."""
        ...


def read_table(path: Path) -> pd.DataFrame:
    """Read a `.parquet` or `.jsonl` file into a DataFrame.

    Raises:
        InputError: The file is missing, unreadable or of another type.
    """
    if not path.is_file():
        raise InputError(path, "file", "not found")
    try:
        if path.suffix == ".parquet":
            frame: pd.DataFrame = pq.read_table(path).to_pandas()
            return frame
        if path.suffix == ".jsonl":
            lines = [line for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]
            return pd.DataFrame([json.loads(line) for line in lines])
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise InputError(path, "file", f"unreadable: {exc}") from exc
    raise InputError(path, "file", "expected a .parquet or .jsonl file")


def check_pairs(pairs: pd.DataFrame, pool: Pool, *, origin: str | Path) -> pd.DataFrame:
    """Check held-out pairs against the preferences schema and the pool.

    Args:
        pairs: Rows with at least `PAIR_COLUMNS`.
        pool: The pool whose trajectories the pairs compare.
        origin: File (or description) named in errors.

    Returns:
        The pairs with a fresh index and `preference` as float64.

    Raises:
        InputError: A column is missing, a preference lies outside [0, 1], or a trajectory
            is not in the pool.
    """
    for column in PAIR_COLUMNS:
        if column not in pairs.columns:
            raise InputError(origin, column, "column missing (preferences schema)")
    out = pairs.reset_index(drop=True).copy()
    try:
        out["preference"] = out["preference"].astype("float64")
    except (TypeError, ValueError) as exc:
        raise InputError(origin, "preference", f"not numeric: {exc}") from exc
    if not out["preference"].between(0.0, 1.0).all():
        raise InputError(origin, "preference", "values must lie in [0, 1] (1 = A, 0.5 = tie)")
    for column in ("trajectory_a_id", "trajectory_b_id"):
        unknown = sorted(set(out[column].astype(str)) - set(pool.manifest["trajectory_id"]))
        if unknown:
            raise InputError(origin, column, f"not in pool {pool.root}: {unknown[:5]}")
    return out


def load_pairs(path: Path, pool: Pool) -> pd.DataFrame:
    """Read held-out pairs from `preferences.parquet`/`.jsonl` and check them."""
    return check_pairs(read_table(Path(path)), pool, origin=path)


def load_rewards(path: Path, pool: Pool) -> dict[str, float]:
    """Read precomputed rewards (`trajectory_id`, `reward`) covering every pool trajectory."""
    table = read_table(Path(path))
    for column in REWARD_COLUMNS:
        if column not in table.columns:
            raise InputError(path, column, "column missing")
    rewards = dict(
        zip(table["trajectory_id"].astype(str), table["reward"].astype(float), strict=True)
    )
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
    scorer: RewardScorer,
    *,
    batch_size: int,
    progress: ProgressCallback = no_progress,
) -> dict[str, float]:
    """Score every trajectory of the pool, `batch_size` at a time.

    Raises:
        InputError: The scorer returns the wrong number of rewards or non-finite ones.
    """
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

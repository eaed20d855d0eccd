"""Uniformly random same-task pairs: the baseline every cheaper strategy is measured against."""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np
import pandas as pd

from robopref.errors import InputError
from robopref.pairs.assignment import assign_pairs
from robopref.pairs.config import PairsConfig
from robopref.pairs.records import PairBatch
from robopref.pairs.stratified import PoolArrays, pair_spec
from robopref.types import BatchKind, Stratum

MAX_TRIES = 50
"""Draw rounds before giving up on finding enough unused pairs."""


def stratum_of(quartile_a: int, quartile_b: int) -> Stratum:
    """Which stratum a pair of quartiles falls in (same, adjacent or distant)."""
    gap = abs(quartile_a - quartile_b)
    return Stratum.SAME if gap == 0 else Stratum.ADJACENT if gap == 1 else Stratum.DISTANT


def select_uniform_pairs(
    manifest: pd.DataFrame,
    config: PairsConfig,
    *,
    annotator_ids: Sequence[str],
    batch_id: str,
    exclude: Collection[tuple[str, str]] = (),
    manifest_path: str = "manifest",
) -> PairBatch:
    """`config.batch_size` distinct same-task pairs drawn uniformly, sides at random.

    Distant pairs with a score gap become gold, and reversed duplicates are added, as in
    stratified batches, so QA works the same on either.

    Raises:
        InputError: The pool holds fewer unused same-task pairs than asked for.
    """
    pool = PoolArrays.from_manifest(manifest, manifest_path)
    groups = [idx for idx in pool.groups(config.cross_task).values() if len(idx) >= 2]
    if not groups:
        raise InputError(manifest_path, "task", "no task has two trajectories to pair")
    sizes = np.array([len(idx) * (len(idx) - 1) / 2 for idx in groups])
    taken = {frozenset(p) for p in exclude}
    rng = np.random.default_rng([config.seed, 3])
    chosen: list[tuple[int, int]] = []
    for _ in range(MAX_TRIES):
        need = config.batch_size - len(chosen)
        if need <= 0:
            break
        which = rng.choice(len(groups), size=2 * need, p=sizes / sizes.sum())
        for g in which:
            ia, ib = rng.choice(groups[g], size=2, replace=False)
            key = frozenset((str(pool.ids[ia]), str(pool.ids[ib])))
            if key not in taken and len(chosen) < config.batch_size:
                taken.add(key)
                chosen.append((int(ia), int(ib)))
    if len(chosen) < config.batch_size:
        raise InputError(
            manifest_path, "trajectory_id",
            f"only {len(chosen)} unused same-task pairs left, {config.batch_size} asked for",
        )  # fmt: skip
    specs = [
        pair_spec(
            pool,
            ia,
            ib,
            stratum=stratum_of(int(pool.quartiles[ia]), int(pool.quartiles[ib])),
            pair_id=f"{batch_id}-{n:04d}",
        )
        for n, (ia, ib) in enumerate(chosen)
    ]
    pairs, assignments = assign_pairs(specs, annotator_ids=annotator_ids, config=config)
    return PairBatch(
        batch_id=batch_id, kind=BatchKind.PRODUCTION, pairs=pairs, assignments=assignments
    )

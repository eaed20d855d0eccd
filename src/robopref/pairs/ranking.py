"""Ranking sets (5–10 trajectories of one instruction) and their expansion into pairs."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import pandas as pd

from robopref.errors import InputError
from robopref.pairs.assignment import balanced_holders, check_annotators
from robopref.pairs.config import PairsConfig
from robopref.pairs.records import PairBatch, RankingSetSpec
from robopref.pairs.stratified import PoolArrays
from robopref.types import BatchKind, Choice

RANKING_PAIR_COLUMNS = (
    "pair_id",
    "ranking_set_id",
    "annotator_id",
    "trajectory_a_id",
    "trajectory_b_id",
    "preference",
    "position_a",
    "position_b",
    "confidence",
)
"""Columns of an expanded ranking: one row per pair of the set; positions are 1 = best."""


def select_ranking_sets(
    manifest: pd.DataFrame,
    config: PairsConfig,
    *,
    annotator_ids: Sequence[str],
    n_sets: int,
    batch_id: str | None = None,
    manifest_path: str = "manifest",
) -> PairBatch:
    """Draw `n_sets` ranking sets of `config.ranking_set_size` trajectories each.

    Sets are dealt over the tasks that have enough trajectories (larger tasks first);
    within a set the trajectories are spread over the quartiles (4, 1, 3, 2, 4, …) and
    shown in random order. Each set goes to `config.annotators_per_pair` annotators with
    balanced load.

    Args:
        manifest: Pool manifest.
        config: Set size, annotators per set, seed.
        annotator_ids: Who ranks.
        n_sets: Number of sets.
        batch_id: Id of the batch; derived from the seed and pool by default.
        manifest_path: Named in error messages.

    Returns:
        A `BatchKind.RANKING` batch with `ranking_sets` filled and no pairs.

    Raises:
        InputError: No task has `ranking_set_size` trajectories, or annotators are too few.
    """
    if n_sets < 1:
        raise InputError("ranking", "n_sets", f"must be ≥ 1, got {n_sets}")
    pool = PoolArrays.from_manifest(manifest, manifest_path)
    ids = check_annotators(annotator_ids, config.annotators_per_pair)
    size = config.ranking_set_size
    groups = {t: idx for t, idx in pool.groups(cross_task=False).items() if len(idx) >= size}
    if not groups:
        largest = max((len(i) for i in pool.groups(cross_task=False).values()), default=0)
        raise InputError(
            manifest_path,
            "task",
            f"ranking sets need {size} trajectories of one task; the largest task has {largest}",
        )
    rng = np.random.default_rng([config.seed, 5])
    tasks = sorted(groups, key=lambda t: (-len(groups[t]), t))
    digest = hashlib.sha1(f"{config!r}|{n_sets}".encode() + "\0".join(pool.ids.tolist()).encode())
    batch_id = batch_id or f"r{config.seed}-{digest.hexdigest()[:8]}"
    holders = balanced_holders(n_sets, len(ids), config.annotators_per_pair, rng)
    sets = []
    for n in range(n_sets):
        task = tasks[n % len(tasks)]
        chosen = _spread(pool, groups[task], size, rng)
        sets.append(
            RankingSetSpec(
                ranking_set_id=f"{batch_id}-{n:03d}",
                task=task,
                trajectory_ids=tuple(str(pool.ids[i]) for i in rng.permutation(chosen)),
                annotator_ids=tuple(ids[a] for a in holders[n]),
            )
        )
    return PairBatch(
        batch_id=batch_id,
        kind=BatchKind.RANKING,
        pairs=(),
        assignments=(),
        ranking_sets=tuple(sets),
    )


def _spread(pool: PoolArrays, idx: np.ndarray, size: int, rng: np.random.Generator) -> list[int]:
    """`size` distinct trajectories from `idx`, quartiles dealt 4, 1, 3, 2 in turn."""
    queues = {q: list(rng.permutation(idx[pool.quartiles[idx] == q])) for q in (4, 1, 3, 2)}
    chosen: list[int] = []
    while len(chosen) < size:
        for q in (4, 1, 3, 2):
            if queues[q] and len(chosen) < size:
                chosen.append(int(queues[q].pop()))
    return chosen


def expand_ranking(
    ranking_set: RankingSetSpec,
    ordered_ids: Sequence[str],
    *,
    annotator_id: str,
    confidence: int | None = None,
) -> pd.DataFrame:
    """Turn one annotator's ranking (best first) into its pairwise preferences.

    Each unordered pair of the set becomes one row; A and B follow the set's own order
    (`ranking_set.trajectory_ids`), so pair ids agree across annotators of the set and
    A is not always the winner. Provenance stays in the row: the ranking set, the
    annotator and both positions (1 = best).

    >>> s = RankingSetSpec(ranking_set_id="r-000", task="t", trajectory_ids=("x", "y", "z"),
    ...                    annotator_ids=("ann",))
    >>> rows = expand_ranking(s, ["z", "x", "y"], annotator_id="ann")
    >>> rows[["pair_id", "preference"]].values.tolist()
    [['r-000-00-01', 'A'], ['r-000-00-02', 'B'], ['r-000-01-02', 'B']]

    Args:
        ranking_set: The set that was ranked.
        ordered_ids: Its trajectory ids, best first.
        annotator_id: Who ranked.
        confidence: The annotator's confidence (1–5) for the whole ranking, if asked.

    Returns:
        A frame with `RANKING_PAIR_COLUMNS`, n·(n−1)/2 rows.

    Raises:
        InputError: `ordered_ids` is not a permutation of the set's trajectories.
    """
    ids = list(ranking_set.trajectory_ids)
    if sorted(ordered_ids) != sorted(ids) or len(set(ordered_ids)) != len(ordered_ids):
        raise InputError(
            ranking_set.ranking_set_id,
            "ordered_ids",
            f"must list each of the set's {len(ids)} trajectories exactly once",
        )
    position = {t: p + 1 for p, t in enumerate(ordered_ids)}
    i, j = np.triu_indices(len(ids), 1)
    rows = [
        (
            f"{ranking_set.ranking_set_id}-{a:02d}-{b:02d}",
            ranking_set.ranking_set_id,
            annotator_id,
            ids[a],
            ids[b],
            (Choice.A if position[ids[a]] < position[ids[b]] else Choice.B).value,
            position[ids[a]],
            position[ids[b]],
            confidence,
        )
        for a, b in zip(i.tolist(), j.tolist(), strict=True)
    ]
    return pd.DataFrame(rows, columns=list(RANKING_PAIR_COLUMNS))

"""Active batches: the unlabelled pairs the current reward model is least sure about.

Seed 004 (PEBBLE, SURF): after a stratified bootstrap, score the pool with the current model
and send annotators the pairs it cannot tell apart. Candidates are drawn at random from
unlabelled same-task pairs (`ActiveConfig.oversample` per active pair), every candidate
trajectory is scored once (`robopref.pairs.scores`), candidates are ranked by closeness and
ensemble disagreement (`robopref.pairs.uncertainty`) and picked greedily for diversity.
Gold pairs (the stratified batches' share, drawn as they draw them) and reversed duplicates
are added so QA works on active batches unchanged.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Collection, Sequence
from typing import NamedTuple

import numpy as np

from robopref.errors import InputError
from robopref.pairs.assignment import assign_pairs
from robopref.pairs.config import ActiveConfig, PairsConfig
from robopref.pairs.records import PairBatch, PairSpec
from robopref.pairs.sampling import Cell, water_fill
from robopref.pairs.scores import ScoreCache, member_scores
from robopref.pairs.stratified import PoolArrays, draw_gold, shuffled_specs
from robopref.pairs.uncertainty import Uncertainty, pick_diverse, uncertainty
from robopref.pairs.uniform import stratum_of
from robopref.pool.pool import Pool
from robopref.pool.trajectory import Trajectory
from robopref.scoring import Scorer
from robopref.types import BatchKind, PairKind, Stratum

logger = logging.getLogger(__name__)


class Candidates(NamedTuple):
    """Candidate pairs as manifest rows, and their uncertainty."""

    ia: np.ndarray
    """(C,) manifest row of each candidate's A."""
    ib: np.ndarray
    """(C,) manifest row of each candidate's B."""
    measures: Uncertainty
    """Gap in σ, disagreement and priority of each candidate."""


def select_active(
    pool: Pool,
    scorer: Scorer[Trajectory],
    *,
    annotator_ids: Sequence[str],
    pairs_config: PairsConfig | None = None,
    config: ActiveConfig | None = None,
    labelled: Collection[tuple[str, str]] = (),
    cache: ScoreCache | None = None,
    batch_id: str | None = None,
) -> PairBatch:
    """Draw one active batch from `pool` where `scorer` is least sure.

    Args:
        pool: The pool (its manifest needs `task`, `quartile`, `quality_score`).
        scorer: The current reward model; an `EnsembleScorer` adds member disagreement.
        annotator_ids: Who annotates the batch.
        pairs_config: Gold share, overlap, duplicates, task grouping and seed (as stratified).
        config: Batch size, oversampling and the ranking terms.
        labelled: (trajectory, trajectory) pairs already labelled (either order); excluded.
        cache: Scores of this model kept across calls (in memory by default, this call only).
        batch_id: Id of the batch; by default derived from the seed, pool, exclusions and picks.

    Returns:
        A batch of kind `active`: `config.batch_size` distinct pairs (the gold share drawn
        as stratified batches draw it), plus reversed duplicates, assigned to annotators.

    Raises:
        InputError: The manifest lacks a column, the pool is too small, or the scorer cannot
            read a trajectory.
    """
    pairs_config = pairs_config or PairsConfig()
    config = config or ActiveConfig()
    path = str(pool.root)
    arrays = PoolArrays.from_manifest(pool.manifest, path)
    excluded = {frozenset(p) for p in labelled}
    cache = cache or ScoreCache("memory")
    n_gold = config.gold_count(pairs_config)
    candidates = rank_candidates(arrays, pool, scorer, cache, excluded, config, pairs_config)
    picks = pick_diverse(
        candidates.measures.priority, candidates.ia, candidates.ib,
        config.batch_size - n_gold, config,
    )  # fmt: skip
    chosen = [(int(candidates.ia[k]), int(candidates.ib[k])) for k in picks]
    batch_id = batch_id or _batch_id(arrays, pairs_config, config, chosen, excluded)
    logger.info(
        "active batch %s: %d active pairs from %d candidates (%d within %.2g σ)",
        batch_id, len(chosen), len(candidates.ia),
        int((candidates.measures.gap_sigma[picks] <= config.gap_window).sum()), config.gap_window,
    )  # fmt: skip
    return _with_gold(arrays, chosen, excluded, n_gold, annotator_ids, pairs_config, batch_id, path)


def batch_of_pairs(
    pool: Pool,
    chosen: Sequence[tuple[str, str]],
    *,
    annotator_ids: Sequence[str],
    batch_id: str,
    pairs_config: PairsConfig | None = None,
    config: ActiveConfig | None = None,
    labelled: Collection[tuple[str, str]] = (),
) -> PairBatch:
    """An active batch of pairs chosen elsewhere (e.g. AI labels routed to people).

    The gold share of `len(chosen)` and reversed duplicates are added as `select_active`
    adds them, so QA works on it unchanged.

    Raises:
        InputError: A trajectory is not in the pool, or the pool has too few gold pairs.
    """
    pairs_config = pairs_config or PairsConfig()
    config = config or ActiveConfig()
    path = str(pool.root)
    arrays = PoolArrays.from_manifest(pool.manifest, path)
    row = {str(t): i for i, t in enumerate(arrays.ids)}
    unknown = sorted({t for pair in chosen for t in pair} - row.keys())
    if unknown:
        raise InputError(path, "trajectory_id", f"not in the pool: {unknown[:3]}")
    rows = [(row[a], row[b]) for a, b in chosen]
    excluded = {frozenset(p) for p in labelled}
    n_gold = round(len(rows) * config.gold_count(pairs_config) / config.batch_size)
    return _with_gold(arrays, rows, excluded, n_gold, annotator_ids, pairs_config, batch_id, path)


def _with_gold(
    arrays: PoolArrays,
    chosen: list[tuple[int, int]],
    excluded: set[frozenset[str]],
    n_gold: int,
    annotator_ids: Sequence[str],
    pairs_config: PairsConfig,
    batch_id: str,
    path: str,
) -> PairBatch:
    """`chosen` plus `n_gold` gold pairs, shuffled, assigned, with reversed duplicates."""
    taken = excluded | {frozenset((arrays.ids[a], arrays.ids[b])) for a, b in chosen}
    gold = draw_gold(arrays, pairs_config, need=n_gold, excluded=taken, path=path)
    specs = _specs(arrays, chosen, gold, batch_id=batch_id, seed=pairs_config.seed)
    pairs, assignments = assign_pairs(specs, annotator_ids=annotator_ids, config=pairs_config)
    return PairBatch(batch_id=batch_id, kind=BatchKind.ACTIVE, pairs=pairs, assignments=assignments)


def rank_candidates(
    arrays: PoolArrays,
    pool: Pool,
    scorer: Scorer[Trajectory],
    cache: ScoreCache,
    excluded: set[frozenset[str]],
    config: ActiveConfig,
    pairs_config: PairsConfig,
) -> Candidates:
    """Draw candidates, score their trajectories once, and measure their uncertainty."""
    need = (config.batch_size - config.gold_count(pairs_config)) * config.oversample
    ia, ib = draw_candidates(arrays, need, excluded, pairs_config)
    rows = np.unique(np.concatenate([ia, ib]))
    members = member_scores(scorer, pool, arrays.ids[rows].tolist(), cache=cache)
    local = {int(r): k for k, r in enumerate(rows)}
    la = np.array([local[int(i)] for i in ia], np.int64)
    lb = np.array([local[int(i)] for i in ib], np.int64)
    sigma = _group_sigma(arrays, rows, members.mean(axis=1), ia, pairs_config.cross_task)
    return Candidates(ia=ia, ib=ib, measures=uncertainty(members, la, lb, sigma, config))


def draw_candidates(
    arrays: PoolArrays, need: int, excluded: set[frozenset[str]], config: PairsConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Up to `need` distinct unlabelled pairs, uniformly over each group's pairs.

    Groups (tasks, unless `config.cross_task`) get shares ∝ their number of pairs.
    """
    cells = [
        Cell(group=g, quartiles=(0, 0), left=idx, right=idx)  # the whole group as one cell
        for g, idx in arrays.groups(config.cross_task).items()
    ]
    caps = np.array([c.capacity for c in cells], np.int64)
    counts = water_fill(caps.astype(float), caps, need)

    def reject(ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
        pairs = zip(arrays.ids[ia], arrays.ids[ib], strict=True)
        return np.fromiter((frozenset(p) in excluded for p in pairs), bool, count=len(ia))

    drawn = [
        c.sample(int(k), rng=np.random.default_rng([config.seed, 7, n]), reject=reject)
        for n, (c, k) in enumerate(zip(cells, counts, strict=True))
    ]
    ia = np.concatenate([a for a, _ in drawn] or [np.zeros(0, np.int64)])
    ib = np.concatenate([b for _, b in drawn] or [np.zeros(0, np.int64)])
    return ia.astype(np.int64), ib.astype(np.int64)


def _group_sigma(
    arrays: PoolArrays, rows: np.ndarray, mean: np.ndarray, ia: np.ndarray, cross_task: bool
) -> np.ndarray:
    """(C,) σ of the ensemble-mean rewards of each candidate's group (1 where it is 0)."""
    if cross_task:
        s = float(mean.std()) or 1.0
        return np.full(len(ia), s)
    task_sigma = {}
    for task in np.unique(arrays.tasks[rows]):
        s = float(mean[arrays.tasks[rows] == task].std())
        task_sigma[task] = s if s > 0 else 1.0
    return np.array([task_sigma[t] for t in arrays.tasks[ia]])


def _specs(
    arrays: PoolArrays,
    chosen: list[tuple[int, int]],
    gold: list[tuple[int, int]],
    *,
    batch_id: str,
    seed: int,
) -> list[PairSpec]:
    """Active (regular) and gold pairs, shuffled, each with its sides drawn at random."""
    draws: list[tuple[int, int, Stratum, PairKind | None]] = [
        (a, b, stratum_of(int(arrays.quartiles[a]), int(arrays.quartiles[b])), PairKind.REGULAR)
        for a, b in chosen
    ]
    draws += [(a, b, Stratum.DISTANT, None) for a, b in gold]  # None: gold where scores differ
    rng = np.random.default_rng([seed, 8])
    return shuffled_specs(arrays, draws, batch_id=batch_id, rng=rng)


def _batch_id(
    arrays: PoolArrays,
    pairs_config: PairsConfig,
    config: ActiveConfig,
    chosen: list[tuple[int, int]],
    excluded: Collection[frozenset[str]],
) -> str:
    """A batch id fixed by the configs, the pool's ids, the exclusions and the active picks."""
    digest = hashlib.sha1(f"{pairs_config!r}{config!r}{chosen!r}".encode())
    digest.update("\0".join(arrays.ids.tolist()).encode())
    digest.update("\0".join(sorted("|".join(sorted(p)) for p in excluded)).encode())
    return f"a{pairs_config.seed}-{digest.hexdigest()[:8]}"

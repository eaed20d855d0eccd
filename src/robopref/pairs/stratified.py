"""Stratified batches by quality quartile: adjacent / same / distant pairs and gold answers."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from robopref.errors import InputError
from robopref.pairs.assignment import assign_pairs
from robopref.pairs.config import PairsConfig
from robopref.pairs.records import PairBatch, PairSpec
from robopref.pairs.sampling import Cell, Reject, water_fill
from robopref.types import BatchKind, Choice, PairKind, Stratum

logger = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("trajectory_id", "task", "quartile", "quality_score")
"""Manifest columns pair selection reads."""

COMBOS: dict[Stratum, tuple[tuple[int, int], ...]] = {
    Stratum.ADJACENT: ((1, 2), (2, 3), (3, 4)),
    Stratum.SAME: ((1, 1), (2, 2), (3, 3), (4, 4)),
    Stratum.DISTANT: ((1, 3), (2, 4), (1, 4)),
}
"""Quartile pairs making up each stratum."""

_STRATUM_CODE = {Stratum.ADJACENT: 0, Stratum.SAME: 1, Stratum.DISTANT: 2}


@dataclass(frozen=True, kw_only=True)
class PoolArrays:
    """The manifest columns pair selection needs, as aligned arrays (one entry per trajectory)."""

    ids: np.ndarray
    tasks: np.ndarray
    quartiles: np.ndarray
    scores: np.ndarray

    @classmethod
    def from_manifest(cls, manifest: pd.DataFrame, path: str = "manifest") -> PoolArrays:
        """Check the manifest and take its columns.

        Raises:
            InputError: A column is missing, ids repeat, a score is missing or a quartile
                is outside 1–4.
        """
        for column in REQUIRED_COLUMNS:
            if column not in manifest.columns:
                raise InputError(path, column, "missing column (pair selection needs it)")
        ids = manifest["trajectory_id"].astype(str).to_numpy()
        if len(set(ids)) != len(ids):
            raise InputError(path, "trajectory_id", "ids are not unique")
        scores = pd.to_numeric(manifest["quality_score"], errors="coerce").to_numpy(float)
        if np.isnan(scores).any():
            raise InputError(path, "quality_score", "missing values; score the pool first")
        quartiles = pd.to_numeric(manifest["quartile"], errors="coerce").to_numpy(float)
        if not np.isin(quartiles, [1, 2, 3, 4]).all():
            raise InputError(path, "quartile", "values must be 1, 2, 3 or 4")
        tasks = manifest["task"].astype(str).to_numpy()
        return cls(ids=ids, tasks=tasks, quartiles=quartiles.astype(np.int64), scores=scores)

    def groups(self, cross_task: bool) -> dict[str, np.ndarray]:
        """Trajectory indices per task (or all under `"*"` when pairs may cross tasks)."""
        if cross_task:
            return {"*": np.arange(len(self.ids))}
        return {str(t): np.flatnonzero(self.tasks == t) for t in sorted(set(self.tasks))}

    def cells(self, stratum: Stratum, cross_task: bool) -> list[Cell]:
        """The cells of a stratum in every group."""
        out = []
        for group, idx in self.groups(cross_task).items():
            by_q = {q: idx[self.quartiles[idx] == q] for q in (1, 2, 3, 4)}
            for qa, qb in COMBOS[stratum]:
                out.append(Cell(group=group, quartiles=(qa, qb), left=by_q[qa], right=by_q[qb]))
        return out

    def quartile_sizes(self, group: str, cross_task: bool) -> str:
        """`q1=…, q2=…, q3=…, q4=…` for a group, for error messages."""
        idx = self.groups(cross_task)[group]
        counts = [int((self.quartiles[idx] == q).sum()) for q in (1, 2, 3, 4)]
        return ", ".join(f"q{q}={c}" for q, c in zip((1, 2, 3, 4), counts, strict=True))


def select_pairs(
    manifest: pd.DataFrame,
    config: PairsConfig,
    *,
    annotator_ids: Sequence[str],
    batch_id: str | None = None,
    exclude: Collection[tuple[str, str]] = (),
    manifest_path: str = "manifest",
) -> PairBatch:
    """Draw one production batch: stratified pairs, gold answers, assignments, duplicates.

    Args:
        manifest: Pool manifest with `trajectory_id`, `task`, `quartile`, `quality_score`.
        config: Batch size, stratum mix, overlap, duplicate share and seed.
        annotator_ids: Who annotates the batch (at least `config.annotators_per_pair`).
        batch_id: Id of the batch; by default derived from the seed, pool and exclusions.
        exclude: (trajectory, trajectory) pairs already used (either order); never redrawn.
        manifest_path: Named in error messages.

    Returns:
        The batch: `config.batch_size` distinct pairs (distant ones with a score gap are
        gold), plus reversed duplicates, each assigned to its annotators.

    Raises:
        InputError: The manifest lacks a column, or the pool cannot give the requested
            mix (the message names the task, quartile sizes and the shortfall).
    """
    pool = PoolArrays.from_manifest(manifest, manifest_path)
    excluded = {frozenset(p) for p in exclude}
    batch_id = batch_id or default_batch_id(pool, config, excluded)
    draws = _draw_all_strata(pool, config, excluded, manifest_path)
    rng = np.random.default_rng([config.seed, 1])
    specs = shuffled_specs(pool, [(a, b, s, None) for a, b, s in draws], batch_id=batch_id, rng=rng)
    pairs, assignments = assign_pairs(specs, annotator_ids=annotator_ids, config=config)
    logger.info("batch %s: %d pairs, %d assignments", batch_id, len(pairs), len(assignments))
    return PairBatch(
        batch_id=batch_id, kind=BatchKind.PRODUCTION, pairs=pairs, assignments=assignments
    )


def shuffled_specs(
    pool: PoolArrays,
    draws: Sequence[tuple[int, int, Stratum, PairKind | None]],
    *,
    batch_id: str,
    rng: np.random.Generator,
) -> list[PairSpec]:
    """Pairs (A row, B row, stratum, kind) in random order, A and B swapped at random.

    Numbered `<batch_id>-NNNN` in their new order; a kind of None lets `pair_spec` decide.
    """
    order = rng.permutation(len(draws))
    swap = rng.random(len(draws)) < 0.5
    specs = []
    for n, i in enumerate(order):
        ia, ib, stratum, kind = draws[i]
        if swap[i]:
            ia, ib = ib, ia
        pair_id = f"{batch_id}-{n:04d}"
        specs.append(pair_spec(pool, ia, ib, stratum=stratum, pair_id=pair_id, kind=kind))
    return specs


def pair_spec(
    pool: PoolArrays,
    ia: int,
    ib: int,
    *,
    stratum: Stratum,
    pair_id: str,
    kind: PairKind | None = None,
) -> PairSpec:
    """A pair between manifest rows `ia` (A) and `ib` (B); distant pairs become gold.

    The expected answer is the higher quality score; equal scores give no expected answer.
    """
    gap = pool.scores[ia] - pool.scores[ib]
    expected = None if gap == 0 else (Choice.A if gap > 0 else Choice.B)
    if kind is None:
        is_gold = stratum == Stratum.DISTANT and expected is not None
        kind = PairKind.GOLD if is_gold else PairKind.REGULAR
    task_a, task_b = str(pool.tasks[ia]), str(pool.tasks[ib])
    return PairSpec(
        pair_id=pair_id,
        trajectory_a_id=str(pool.ids[ia]),
        trajectory_b_id=str(pool.ids[ib]),
        task=task_a if task_a == task_b else f"{task_a} | {task_b}",
        kind=kind,
        stratum=stratum,
        quartile_a=int(pool.quartiles[ia]),
        quartile_b=int(pool.quartiles[ib]),
        expected=expected if kind in (PairKind.GOLD, PairKind.CALIBRATION) else None,
    )


def default_batch_id(
    pool: PoolArrays, config: PairsConfig, excluded: Collection[frozenset[str]]
) -> str:
    """A batch id fixed by the seed, the config, the pool's ids and the exclusions."""
    digest = hashlib.sha1(repr(config).encode())
    digest.update("\0".join(pool.ids.tolist()).encode())
    digest.update("\0".join(sorted("|".join(sorted(p)) for p in excluded)).encode())
    return f"b{config.seed}-{digest.hexdigest()[:8]}"


def draw_gold(
    pool: PoolArrays,
    config: PairsConfig,
    *,
    need: int,
    excluded: set[frozenset[str]],
    path: str,
) -> list[tuple[int, int]]:
    """`need` distant-quartile pairs with different scores (gold), as stratified batches draw them.

    Raises:
        InputError: The pool has too few distant pairs (naming the quartile sizes).
    """
    reject = _rejector(pool, excluded, distinct_scores=True)
    return _draw_stratum(pool, config, stratum=Stratum.DISTANT, need=need, reject=reject, path=path)


def _draw_all_strata(
    pool: PoolArrays, config: PairsConfig, excluded: set[frozenset[str]], path: str
) -> list[tuple[int, int, Stratum]]:
    adjacent, same, distant = config.stratum_counts()
    draws: list[tuple[int, int, Stratum]] = []
    for stratum, need in (
        (Stratum.ADJACENT, adjacent),
        (Stratum.SAME, same),
        (Stratum.DISTANT, distant),
    ):
        reject = _rejector(pool, excluded, distinct_scores=stratum == Stratum.DISTANT)
        for ia, ib in _draw_stratum(
            pool, config, stratum=stratum, need=need, reject=reject, path=path
        ):
            draws.append((ia, ib, stratum))
    return draws


def _rejector(pool: PoolArrays, excluded: set[frozenset[str]], *, distinct_scores: bool) -> Reject:
    def reject(ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
        mask = np.zeros(len(ia), dtype=bool)
        if distinct_scores:
            mask |= pool.scores[ia] == pool.scores[ib]
        if excluded:
            ids_a, ids_b = pool.ids[ia], pool.ids[ib]
            mask |= np.fromiter(
                (frozenset((a, b)) in excluded for a, b in zip(ids_a, ids_b, strict=True)),
                dtype=bool,
                count=len(ia),
            )
        return mask

    return reject


def _draw_stratum(
    pool: PoolArrays, config: PairsConfig, *, stratum: Stratum, need: int, reject: Reject, path: str
) -> list[tuple[int, int]]:
    """`need` distinct pairs of one stratum, spread over groups ∝ size and evenly over cells."""
    if need == 0:
        return []
    cells = pool.cells(stratum, config.cross_task)
    caps = np.array([c.capacity for c in cells], dtype=np.int64)
    sizes = {g: len(idx) for g, idx in pool.groups(config.cross_task).items()}
    live = {
        g: sum(1 for c, cap in zip(cells, caps, strict=True) if c.group == g and cap) for g in sizes
    }
    weights = np.array([sizes[c.group] / max(1, live[c.group]) for c in cells])
    code = _STRATUM_CODE[stratum]
    while True:
        counts = water_fill(weights, caps, need)
        if counts.sum() < need:
            raise _too_small(
                pool, config, stratum=stratum, need=need, available=int(caps.sum()), path=path
            )
        drawn = [
            c.sample(int(k), rng=np.random.default_rng([config.seed, code, n]), reject=reject)
            for n, (c, k) in enumerate(zip(cells, counts, strict=True))
        ]
        got = np.array([len(ia) for ia, _ in drawn])
        if (got >= counts).all():
            return [(int(a), int(b)) for ia, ib in drawn for a, b in zip(ia, ib, strict=True)]
        caps = np.where(got < counts, got, caps)


def _too_small(
    pool: PoolArrays, config: PairsConfig, *, stratum: Stratum, need: int, available: int, path: str
) -> InputError:
    groups = list(pool.groups(config.cross_task))
    sizes = "; ".join(
        f"task {g!r} has {pool.quartile_sizes(g, config.cross_task)}" for g in groups[:6]
    )
    more = f" (and {len(groups) - 6} more tasks)" if len(groups) > 6 else ""
    combos = ", ".join(f"q{a}–q{b}" for a, b in COMBOS[stratum])
    why = " with different quality scores" if stratum == Stratum.DISTANT else ""
    return InputError(
        path,
        "quartile",
        f"{need} {stratum.value} pairs requested ({combos}) but the pool gives only "
        f"{available} new pairs{why}: {sizes}{more}; add trajectories to the thin "
        f"quartiles, lower batch_size, or change the mix",
    )

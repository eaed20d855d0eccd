"""Calibration sets: disjoint sets of clear-cut pairs with expert answers, by quality dimension."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from robopref.errors import InputError
from robopref.pairs.assignment import check_annotators
from robopref.pairs.config import PairsConfig
from robopref.pairs.rationale import write_rationale
from robopref.pairs.records import AssignmentSpec, PairBatch
from robopref.pairs.sampling import water_fill
from robopref.pairs.stratified import PoolArrays, pair_spec
from robopref.types import BatchKind, PairKind, Stratum

DIMENSIONS = ("success", "collisions", "efficiency", "smoothness", "overall")
"""Quality dimensions a calibration pair illustrates (seed 004), `overall` for the rest."""

MAX_TRAJECTORIES_PER_TASK = 400
"""Trajectories per task considered for calibration candidates (all pairs among them)."""

_CLEAR_GAP = 0.15
"""Smallest efficiency / naturalness difference that makes a pair about that dimension."""


@dataclass(frozen=True, kw_only=True)
class CalibrationSet:
    """One calibration set: a batch of calibration pairs and the dimension of each pair."""

    batch: PairBatch
    dimensions: Mapping[str, str] = field(default_factory=dict)
    """pair_id → the quality dimension the pair illustrates (one of `DIMENSIONS`)."""


def select_calibration_sets(
    manifest: pd.DataFrame,
    config: PairsConfig,
    *,
    annotator_ids: Sequence[str] = (),
    manifest_path: str = "manifest",
) -> tuple[CalibrationSet, ...]:
    """Draw `config.calibration_sets` disjoint sets of `config.calibration_size` pairs.

    Pairs compare two trajectories of one task whose quality scores differ clearly
    (quartiles two or more apart first); the expected answer is the higher score. Each
    dimension the manifest supports (success vs failure, collisions, efficiency,
    smoothness) gets an equal share, dealt evenly over the sets. No pair is in two sets.
    Each pair carries a `rationale` written from the metrics of that dimension
    (`pairs.rationale.write_rationale`), shown to annotators after they answered it.

    Args:
        manifest: Pool manifest (`success`, `collisions`, `efficiency_score`,
            `naturalness_score` are used when present).
        config: Set size, number of sets and seed.
        annotator_ids: Annotators to assign to the first set (each sees every pair);
            retests get `calibration_assignments` on a later set.
        manifest_path: Named in error messages.

    Returns:
        The sets, first to last.

    Raises:
        InputError: The pool has too few clear-cut pairs for the sets requested.
    """
    pool = PoolArrays.from_manifest(manifest, manifest_path)
    rng = np.random.default_rng([config.seed, 7])
    candidates = _candidates(pool, manifest, rng)
    need = config.calibration_size * config.calibration_sets
    chosen = _choose(candidates, need, n_trajectories=len(pool.ids))
    if len(chosen) < need:
        raise InputError(
            manifest_path,
            "quality_score",
            f"calibration needs {need} clear-cut pairs ({config.calibration_sets} sets × "
            f"{config.calibration_size}) but the pool gives only {len(chosen)}; add "
            "trajectories or lower calibration_size",
        )
    digest = hashlib.sha1(repr(config).encode() + "\0".join(pool.ids.tolist()).encode())
    sets = []
    metrics = manifest.reset_index(drop=True)
    for s in range(config.calibration_sets):
        rows = chosen.iloc[s :: config.calibration_sets].reset_index(drop=True)
        batch_id = f"cal{s + 1}-{digest.hexdigest()[:8]}"
        sets.append(_build_set(pool, rows, metrics, batch_id=batch_id, rng=rng))
    if annotator_ids:
        first = sets[0]
        assignments = tuple(
            a
            for ann in check_annotators(annotator_ids, 1)
            for a in calibration_assignments(first.batch, ann, seed=config.seed)
        )
        sets[0] = CalibrationSet(
            batch=PairBatch(
                batch_id=first.batch.batch_id,
                kind=BatchKind.CALIBRATION,
                pairs=first.batch.pairs,
                assignments=assignments,
            ),
            dimensions=first.dimensions,
        )
    return tuple(sets)


def calibration_assignments(
    batch: PairBatch, annotator_id: str, *, seed: int
) -> tuple[AssignmentSpec, ...]:
    """Every pair of a calibration set for one annotator, left/right at random.

    The sides depend on the seed and the annotator, so a retest is reproducible.
    """
    digest = int(hashlib.sha1(annotator_id.encode()).hexdigest()[:8], 16)
    rng = np.random.default_rng([seed, 8, digest])
    left_is_a = rng.random(len(batch.pairs)) < 0.5
    return tuple(
        AssignmentSpec(
            pair_id=p.pair_id,
            annotator_id=annotator_id,
            left_trajectory_id=p.trajectory_a_id if is_a else p.trajectory_b_id,
        )
        for p, is_a in zip(batch.pairs, left_is_a, strict=True)
    )


def _build_set(
    pool: PoolArrays,
    rows: pd.DataFrame,
    metrics: pd.DataFrame,
    *,
    batch_id: str,
    rng: np.random.Generator,
) -> CalibrationSet:
    """The set's pairs (A/B swapped at random), each with its dimension and rationale.

    `rows["a"]` is the better trajectory (manifest row index into `metrics`).
    """
    swap = rng.random(len(rows)) < 0.5
    pairs, dims = [], {}
    columns = zip(rows["a"], rows["b"], rows["dimension"], swap, strict=True)
    for n, (a, b, dimension, flip) in enumerate(columns):
        ia, ib = (int(b), int(a)) if flip else (int(a), int(b))
        distance = abs(int(pool.quartiles[ia]) - int(pool.quartiles[ib]))
        stratum = (
            Stratum.SAME
            if distance == 0
            else Stratum.ADJACENT
            if distance == 1
            else Stratum.DISTANT
        )
        spec = pair_spec(
            pool, ia, ib, stratum=stratum, pair_id=f"{batch_id}-{n:03d}", kind=PairKind.CALIBRATION
        )
        why = write_rationale(str(dimension), _row(metrics, int(a)), _row(metrics, int(b)))
        pairs.append(replace(spec, rationale=why))
        dims[spec.pair_id] = str(dimension)
    batch = PairBatch(
        batch_id=batch_id, kind=BatchKind.CALIBRATION, pairs=tuple(pairs), assignments=()
    )
    return CalibrationSet(batch=batch, dimensions=dims)


def _row(metrics: pd.DataFrame, index: int) -> dict[str, object]:
    return {str(k): v for k, v in metrics.iloc[index].items()}


def _candidates(pool: PoolArrays, manifest: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """All same-task pairs with different scores (A = the better one), with their dimension."""
    frames = []
    for idx in pool.groups(cross_task=False).values():
        if len(idx) > MAX_TRAJECTORIES_PER_TASK:
            idx = np.sort(rng.choice(idx, MAX_TRAJECTORIES_PER_TASK, replace=False))
        i, j = np.triu_indices(len(idx), 1)
        a, b = idx[i], idx[j]
        better = pool.scores[a] >= pool.scores[b]
        a, b = np.where(better, a, b), np.where(better, b, a)
        keep = pool.scores[a] > pool.scores[b]
        frames.append(pd.DataFrame({"a": a[keep], "b": b[keep]}))
    pairs = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({"a": [], "b": []})
    a, b = pairs["a"].to_numpy(np.int64), pairs["b"].to_numpy(np.int64)
    pairs["gap"] = pool.scores[a] - pool.scores[b]
    pairs["distance"] = np.abs(pool.quartiles[a] - pool.quartiles[b])
    pairs["dimension"] = _dimensions(manifest.reset_index(drop=True), a, b)
    pairs["tiebreak"] = rng.random(len(pairs))
    return pairs.sort_values(["distance", "gap", "tiebreak"], ascending=False, ignore_index=True)


def _dimensions(manifest: pd.DataFrame, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The dimension a pair (A better by score) illustrates, when A is also better on it."""
    dim = np.full(len(a), "overall", dtype=object)
    undecided = np.ones(len(a), dtype=bool)
    same_outcome = np.ones(len(a), dtype=bool)
    if "success" in manifest:
        success = manifest["success"].fillna(False).to_numpy(bool)
        is_dim = success[a] & ~success[b]
        dim[is_dim] = "success"
        undecided &= success[a] == success[b]
        same_outcome &= success[a] == success[b]
    if "collisions" in manifest:
        hits = manifest["collisions"].fillna(0).to_numpy(float)
        is_dim = undecided & (hits[a] < hits[b])
        dim[is_dim] = "collisions"
        undecided &= hits[a] == hits[b]
    diffs = {
        name: manifest[column].fillna(0).to_numpy(float)
        for name, column in (
            ("efficiency", "efficiency_score"),
            ("smoothness", "naturalness_score"),
        )
        if column in manifest
    }
    if diffs:
        gaps = {name: values[a] - values[b] for name, values in diffs.items()}
        top = np.maximum.reduce(list(gaps.values()))
        for name, gap in gaps.items():
            is_dim = undecided & same_outcome & (gap >= _CLEAR_GAP) & (gap >= top)
            dim[is_dim] = name
            undecided &= ~is_dim
    return dim


def _choose(candidates: pd.DataFrame, need: int, *, n_trajectories: int) -> pd.DataFrame:
    """Up to `need` clear-cut candidates, equal shares per dimension, few reuses of a trajectory."""
    max_uses = max(2, int(np.ceil(2 * need / max(1, n_trajectories))))
    present = [d for d in DIMENSIONS if (candidates["dimension"] == d).any()]
    caps = np.array([(candidates["dimension"] == d).sum() for d in present])
    quotas = dict(zip(present, water_fill(np.ones(len(present)), caps, need).tolist(), strict=True))
    uses: dict[int, int] = {}
    taken: list[int] = []
    for dimension in present:
        taken += _take(
            candidates[candidates["dimension"] == dimension], quotas[dimension], uses, max_uses
        )
    if len(taken) < need:  # top up from any dimension, reuse limit still applies
        rest = candidates.drop(index=taken)
        taken += _take(rest, need - len(taken), uses, max_uses)
    chosen = candidates.loc[taken]
    rank = np.array([DIMENSIONS.index(d) for d in chosen["dimension"]], dtype=np.int64)
    order = np.lexsort((np.arange(len(chosen)), rank))
    return chosen.iloc[order].reset_index(drop=True)


def _take(frame: pd.DataFrame, k: int, uses: dict[int, int], max_uses: int) -> list[int]:
    out: list[int] = []
    for index, a, b in zip(frame.index, frame["a"], frame["b"], strict=True):
        if len(out) >= k:
            break
        if uses.get(int(a), 0) < max_uses and uses.get(int(b), 0) < max_uses:
            uses[int(a)] = uses.get(int(a), 0) + 1
            uses[int(b)] = uses.get(int(b), 0) + 1
            out.append(int(index))
    return out

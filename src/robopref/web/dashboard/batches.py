"""Batches the lead creates from the dashboard: stratified, calibration and ranking."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd

import robopref.pool
from robopref.errors import InputError
from robopref.pairs import (
    PairBatch,
    PairsConfig,
    calibration_assignments,
    select_calibration_sets,
    select_pairs,
    select_ranking_sets,
)
from robopref.store import Store, batch_ids, create_batch, pairs_frame, trajectories_frame
from robopref.store.admin import annotator_activity
from robopref.web.dashboard.schemas import AdminBatchKind, BatchCreate, BatchCreated

_WHERE = "batch request"


def rendered_trajectories(store: Store) -> pd.DataFrame:
    """The store's trajectories whose clips are rendered (the only ones a page can show).

    Raises:
        InputError: None is rendered yet.
    """
    frame = trajectories_frame(store)
    frame = frame[frame["clip_path"].notna()].reset_index(drop=True)
    if frame.empty:
        raise InputError(_WHERE, "kind", "no synced trajectory has a rendered clip; run "
                         "`robopref render POOL` and sync the pool first")
    return frame


def _pool_manifest(store: Store, pool: Path) -> pd.DataFrame:
    """The pool manifest's rows of rendered, synced trajectories (calibration uses its metrics)."""
    ids = set(rendered_trajectories(store)["trajectory_id"])
    manifest = robopref.pool.open(pool).manifest
    return manifest[manifest["trajectory_id"].isin(ids)].reset_index(drop=True)


def _annotators(store: Store, body: BatchCreate) -> list[str]:
    """The requested annotators (checked to exist), or the certified, non-excluded ones."""
    accounts = {a.annotator_id: a for a in annotator_activity(store)}
    if body.annotator_ids is None:
        if body.kind is AdminBatchKind.CALIBRATION:
            return []
        return [a.annotator_id for a in accounts.values()
                if a.certified and not a.excluded and a.role == "annotator"]
    unknown = sorted(set(body.annotator_ids) - set(accounts))
    if unknown:
        raise InputError(_WHERE, "annotator_ids", f"no such annotators: {unknown[:5]}")
    return list(dict.fromkeys(body.annotator_ids))


def _config(body: BatchCreate, n_annotators: int) -> PairsConfig:
    per_item = body.annotators_per_pair or min(3, n_annotators)
    if body.kind is not AdminBatchKind.CALIBRATION and n_annotators < max(per_item, 2):
        raise InputError(_WHERE, "annotator_ids", f"{n_annotators} annotators available; each "
                         f"pair or set needs {max(per_item, 2)} (certify more annotators or "
                         "name them)")
    return PairsConfig(batch_size=body.size, annotators_per_pair=max(per_item, 2),
                       calibration_size=body.size, ranking_set_size=body.clips_per_set,
                       seed=body.seed)


def _calibration(store: Store, pool: Path, body: BatchCreate, annotators: list[str]) -> PairBatch:
    """A new calibration set, disjoint from the stored ones, assigned to `annotators`."""
    stored = pairs_frame(store)
    stored = stored[stored["kind"] == "calibration"]
    used = {frozenset(p) for p in zip(stored["trajectory_a_id"], stored["trajectory_b_id"],
                                      strict=True)}
    n_stored = int(stored["batch_id"].nunique())
    config = replace(_config(body, len(annotators)), calibration_sets=n_stored + 1)
    for candidate in select_calibration_sets(_pool_manifest(store, pool), config):
        pairs = candidate.batch.pairs
        if not any(frozenset((p.trajectory_a_id, p.trajectory_b_id)) in used for p in pairs):
            assignments = tuple(a for ann in annotators
                                for a in calibration_assignments(candidate.batch, ann,
                                                                 seed=body.seed))
            return replace(candidate.batch, assignments=assignments)
    raise InputError(_WHERE, "seed", f"every set drawn with seed {body.seed} repeats pairs of "
                     "the stored calibration sets; try another seed or a smaller size")


def build_batch(store: Store, pool: Path, body: BatchCreate) -> PairBatch:
    """The batch a dashboard request describes, drawn from the rendered trajectories.

    Raises:
        InputError: Naming the field: too few annotators, unknown ones, a pool too small
            for the request, or a batch id (from the seed) that exists already.
    """
    annotators = _annotators(store, body)
    if body.kind is AdminBatchKind.CALIBRATION:
        batch = _calibration(store, pool, body, annotators)
    else:
        config = _config(body, len(annotators))
        manifest = rendered_trajectories(store)
        if body.kind is AdminBatchKind.RANKING:
            batch = select_ranking_sets(manifest, config, annotator_ids=annotators,
                                        n_sets=body.size)
        else:
            stored = pairs_frame(store)
            used = list(zip(stored["trajectory_a_id"], stored["trajectory_b_id"], strict=True))
            batch = select_pairs(manifest, config, annotator_ids=annotators, exclude=used)
    if batch.batch_id in set(batch_ids(store)):
        raise InputError(_WHERE, "seed", f"batch {batch.batch_id} exists already (same seed and "
                         "pool); pass another seed")
    return replace(batch, rubric=body.rubric)


def create_admin_batch(store: Store, pool: Path, body: BatchCreate) -> BatchCreated:
    """Draw and store the batch a dashboard request describes."""
    batch = build_batch(store, pool, body)
    create_batch(store, batch)
    assignments = len(batch.assignments) + sum(len(r.annotator_ids) for r in batch.ranking_sets)
    return BatchCreated(batch_id=batch.batch_id, kind=batch.kind.value,
                        pairs=len(batch.pairs) or len(batch.ranking_sets),
                        assignments=assignments)

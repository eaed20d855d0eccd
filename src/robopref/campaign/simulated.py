"""A whole simulated campaign on one pool: calibration, retest, production, QA, export."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from robopref.campaign.certification import assign_retests, certify
from robopref.campaign.config import CampaignConfig
from robopref.errors import InputError
from robopref.pairs import PairBatch, select_calibration_sets, select_pairs
from robopref.progress import ProgressCallback, no_progress
from robopref.quality import QAResult, run_qa
from robopref.quality.kappa import CertificationStep
from robopref.quality.qa import check_qa_out
from robopref.store import (
    Store,
    annotations_frame,
    certification_history,
    create_batch,
    pairs_frame,
    sync_trajectories,
)
from robopref.teachers import cast_roster, label_batch, parse_roster, simulated_labelers
from robopref.teachers.truth import GroundTruth, truth_from_frame

logger = logging.getLogger(__name__)

STEPS = 7


@dataclass(frozen=True)
class CampaignResult:
    """What a simulated campaign produced."""

    certification: pd.DataFrame
    """Latest calibration attempt per annotator (kappa, step)."""
    history: pd.DataFrame
    """Every certification attempt, oldest first (the store's kappa history)."""
    retested: dict[str, str]
    """Annotator → the calibration batch they were retested on."""
    production_batch: str
    """Id of the production batch."""
    qa: QAResult
    """The QA report, preferences and their files."""


def check_rosters(config: CampaignConfig) -> None:
    """Parse the three rosters up front, so a bad one is refused before the store changes.

    Raises:
        InputError: A roster that `parse_roster` refuses, naming its field.
    """
    for name in ("calibration_roster", "retest_roster", "production_roster"):
        try:
            parse_roster(getattr(config, name))
        except InputError as exc:
            raise InputError(exc.path, name, exc.message) from exc


def run_simulated_campaign(
    store: Store,
    manifest: pd.DataFrame,
    config: CampaignConfig,
    *,
    out_dir: Path,
    progress: ProgressCallback = no_progress,
) -> CampaignResult:
    """Calibrate, certify (retesting failures), annotate a production batch and run QA.

    Args:
        store: The annotation store (its trajectories are synced from `manifest`).
        manifest: The pool manifest (ground truth: its `config.truth` column).
        config: Rosters, pair selection and QA settings.
        out_dir: Where QA writes report.json/html and preferences.parquet/jsonl.
        progress: Called after each of the campaign's steps.

    Raises:
        InputError: The pool cannot give the batches asked for, nobody is certified, the
            truth column is null (`true_return` of an imported pool), or `out_dir` is a
            folder robopref did not write as QA output (checked first).
    """
    check_qa_out(out_dir)
    check_rosters(config)
    truth = truth_from_frame(manifest, config.truth)  # refused before the store changes
    sync_trajectories(store, manifest)
    ids = config.annotator_ids
    sets = [s.batch for s in select_calibration_sets(manifest, config.pairs, annotator_ids=ids)]
    for batch in sets:
        create_batch(store, batch)
    progress(1, STEPS)
    _simulate(
        store, sets[0], config.calibration_roster, annotator_ids=ids, truth=truth, seed=config.seed
    )
    latest = certify(store, config.qa)
    retested = assign_retests(store, latest, seed=config.pairs.seed)
    progress(2, STEPS)
    for batch_id in sorted(set(retested.values())):
        cast = cast_roster(parse_roster(config.retest_roster), sorted(retested))
        label_batch(store, batch_id, simulated_labelers(cast, truth), seed=config.seed)
    latest = certify(store, config.qa)
    progress(3, STEPS)
    passed = latest["step"] == CertificationStep.CERTIFIED.value
    certified = sorted(latest.loc[passed, "annotator_id"])
    production = select_pairs(
        manifest, config.pairs, annotator_ids=certified, batch_id="production-1"
    )
    create_batch(store, production)
    progress(4, STEPS)
    _simulate(
        store,
        production,
        config.production_roster,
        annotator_ids=certified,
        truth=truth,
        seed=config.seed,
    )
    progress(5, STEPS)
    qa = run_qa(annotations_frame(store), pairs_frame(store), config.qa, out_dir=out_dir)
    progress(STEPS, STEPS)
    return CampaignResult(latest, certification_history(store), retested, production.batch_id, qa)


def _simulate(
    store: Store,
    batch: PairBatch,
    roster: str,
    *,
    annotator_ids: list[str],
    truth: GroundTruth,
    seed: int,
) -> int:
    """Simulated annotators (roster dealt over `annotator_ids`) answer `batch`."""
    cast = cast_roster(parse_roster(roster), annotator_ids)
    logger.info("%s batch %s: %s", batch.kind.value, batch.batch_id, [a.label for a in cast])
    return label_batch(store, batch.batch_id, simulated_labelers(cast, truth), seed=seed)

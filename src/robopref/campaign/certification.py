"""Certification: kappa on calibration sets, recorded in the store, retests assigned."""

from __future__ import annotations

import logging
import math

import pandas as pd

from robopref.pairs import calibration_assignments
from robopref.quality import QAConfig, certification_table, resolve_annotations
from robopref.quality.gold import CERTIFICATION_COLUMNS
from robopref.quality.kappa import CertificationStep
from robopref.store import (
    Store,
    add_assignments,
    annotations_frame,
    annotator_batch_ids,
    calibration_batch_ids,
    load_batch,
    pairs_frame,
    record_certification_once,
)
from robopref.types import BatchKind

logger = logging.getLogger(__name__)


def certification_attempts(
    store: Store, config: QAConfig, *, annotator_id: str | None = None
) -> pd.DataFrame:
    """Every calibration attempt's kappa and step (`quality.certification_table`).

    Only the calibration batches' annotations are read (of one annotator, if given).

    Returns:
        `quality.gold.CERTIFICATION_COLUMNS`, one row per annotator and set taken.
    """
    batches = calibration_batch_ids(store)
    if not batches:
        return pd.DataFrame(columns=list(CERTIFICATION_COLUMNS))
    answers = pd.concat([annotations_frame(store, b) for b in batches], ignore_index=True)
    pairs = [pairs_frame(store, b) for b in batches]
    if annotator_id is not None:
        answers = answers[answers["annotator_id"] == annotator_id]
    resolved = resolve_annotations(answers, pd.concat(pairs, ignore_index=True))
    return certification_table(resolved, config)


def stored_kappa(kappa: float) -> float:
    """A kappa as the store keeps it: NaN (no chance-corrected agreement) as −1, clipped.

    >>> stored_kappa(float("nan")), stored_kappa(0.7)
    (-1.0, 0.7)
    """
    return -1.0 if math.isnan(kappa) else max(-1.0, min(1.0, float(kappa)))


def certify(store: Store, config: QAConfig) -> pd.DataFrame:
    """Score every annotator's latest calibration attempt and record it in the store.

    Attempts already recorded (same annotator and calibration batch) are not recorded again.

    Returns:
        The latest attempt per annotator: `annotator_id`, `batch_id`, `kappa`, `step`.
    """
    table = certification_attempts(store, config)
    if table.empty:
        return table
    latest = table.sort_values("attempt").groupby("annotator_id").tail(1)
    for row in latest.to_dict("records"):
        annotator, batch_id, step = str(row["annotator_id"]), str(row["batch_id"]), str(row["step"])
        recorded = record_certification_once(
            store,
            annotator_id=annotator,
            calibration_batch_id=batch_id,
            kappa=stored_kappa(float(row["kappa"])),
            passed=step == CertificationStep.CERTIFIED.value,
        )
        if recorded is not None:
            logger.info("%s: kappa %.3f on %s → %s", annotator, row["kappa"], batch_id, step)
    return latest.reset_index(drop=True)


def assign_next_set(store: Store, annotator_id: str, *, seed: int) -> str | None:
    """Assign the annotator the first open calibration set they hold nothing in.

    Sets are the store's calibration batches in the order they were created; each pair's
    sides come from `pairs.calibration_assignments` (reproducible for a seed).

    Returns:
        The calibration batch id assigned, or None when every set has been taken.
    """
    taken = set(annotator_batch_ids(store, annotator_id, kinds=[BatchKind.CALIBRATION]))
    for batch_id in calibration_batch_ids(store, open_only=True):
        if batch_id not in taken:
            batch = load_batch(store, batch_id)
            add_assignments(store, batch_id, calibration_assignments(batch, annotator_id,
                                                                     seed=seed))
            return batch_id
    return None


def assign_retests(store: Store, latest: pd.DataFrame, *, seed: int) -> dict[str, str]:
    """Give every annotator whose step is `retest` the next calibration set they have not taken.

    The sets are the store's calibration batches in the order they were created.

    Returns:
        Annotator id → the calibration batch id they are retested on.
    """
    retests: dict[str, str] = {}
    failed = latest[latest["step"] == CertificationStep.RETEST.value]
    for annotator in failed["annotator_id"]:
        batch_id = assign_next_set(store, str(annotator), seed=seed)
        if batch_id is not None:
            retests[str(annotator)] = batch_id
    return retests

"""Certification: kappa on calibration sets, recorded in the store, retests assigned."""

from __future__ import annotations

import logging
import math

import pandas as pd

from robopref.pairs import calibration_assignments
from robopref.quality import QAConfig, certification_table, resolve_annotations
from robopref.quality.kappa import CertificationStep
from robopref.store import (
    Store,
    add_assignments,
    annotations_frame,
    calibration_batch_ids,
    certification_history,
    load_batch,
    pairs_frame,
    record_certification,
)

logger = logging.getLogger(__name__)


def certify(store: Store, config: QAConfig) -> pd.DataFrame:
    """Score every annotator's latest calibration attempt and record it in the store.

    Attempts already recorded (same annotator and calibration batch) are not recorded again.

    Returns:
        The latest attempt per annotator: `annotator_id`, `batch_id`, `kappa`, `step`.
    """
    resolved = resolve_annotations(annotations_frame(store), pairs_frame(store))
    table = certification_table(resolved, config)
    if table.empty:
        return table
    latest = table.sort_values("attempt").groupby("annotator_id").tail(1)
    history = certification_history(store)
    done = set(zip(history["annotator_id"], history["calibration_batch_id"], strict=True))
    for row in latest.to_dict("records"):
        annotator, batch_id, step = str(row["annotator_id"]), str(row["batch_id"]), str(row["step"])
        if (annotator, batch_id) in done:
            continue
        kappa = float(row["kappa"])
        kappa = -1.0 if math.isnan(kappa) else kappa  # NaN: no chance-corrected agreement
        record_certification(
            store,
            annotator_id=annotator,
            calibration_batch_id=batch_id,
            kappa=max(-1.0, min(1.0, kappa)),
            passed=step == CertificationStep.CERTIFIED.value,
        )
        logger.info("%s: kappa %.3f on %s → %s", annotator, kappa, batch_id, step)
    return latest.reset_index(drop=True)


def assign_retests(store: Store, latest: pd.DataFrame, *, seed: int) -> dict[str, str]:
    """Give every annotator whose step is `retest` the next calibration set they have not taken.

    The sets are the store's calibration batches in the order they were created.

    Returns:
        Annotator id → the calibration batch id they are retested on.
    """
    order = calibration_batch_ids(store)
    retests: dict[str, str] = {}
    failed = latest[latest["step"] == CertificationStep.RETEST.value]
    for annotator, taken_id in zip(failed["annotator_id"], failed["batch_id"], strict=True):
        taken = order.index(str(taken_id)) if taken_id in order else -1
        if taken + 1 >= len(order):
            continue
        batch = load_batch(store, order[taken + 1])
        add_assignments(
            store, batch.batch_id, calibration_assignments(batch, str(annotator), seed=seed)
        )
        retests[str(annotator)] = batch.batch_id
    return retests

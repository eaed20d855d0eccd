"""Gold-pair accuracy per annotator and certification against calibration answers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from robopref.quality.config import QAConfig
from robopref.quality.kappa import certification_step, cohen_kappa
from robopref.types import PairKind

CERTIFICATION_COLUMNS = ("annotator_id", "attempt", "batch_id", "n", "accuracy", "kappa", "step")
"""Columns of `certification_table`: one row per annotator and calibration set taken."""


def gold_accuracy(resolved: pd.DataFrame) -> pd.DataFrame:
    """Per annotator: gold answers given and the share matching the expected answer.

    Gold pairs are distant-quartile pairs with a score gap; a reversed duplicate of a gold
    pair counts too (it is resolved to the original's frame). Answering "equal" on a gold
    pair counts as a disagreement.

    Args:
        resolved: `resolve_annotations` output.

    Returns:
        Index `annotator_id`; columns `n_gold`, `gold_accuracy` (NaN without gold answers).
    """
    gold = resolved[(resolved["kind"] == PairKind.GOLD.value) & resolved["expected_code"].notna()]
    correct = (gold["code"] == gold["expected_code"]).astype(float)
    grouped = correct.groupby(gold["annotator_id"])
    out = pd.DataFrame({"n_gold": grouped.size(), "gold_accuracy": grouped.mean()})
    out.index.name = "annotator_id"
    return out


def certification_table(resolved: pd.DataFrame, config: QAConfig) -> pd.DataFrame:
    """Kappa against the expert answers for every calibration set each annotator took.

    Attempts are ordered by the first `created_at` of the annotator's answers to each set
    (then by batch id); `step` is the decision after that attempt
    (`certification_step` of the kappas so far).

    Args:
        resolved: `resolve_annotations` output.
        config: Kappa threshold and number of attempts.

    Returns:
        A frame with `CERTIFICATION_COLUMNS`.
    """
    cal = resolved[
        (resolved["kind"] == PairKind.CALIBRATION.value) & resolved["expected_code"].notna()
    ]
    if cal.empty:
        return pd.DataFrame(columns=list(CERTIFICATION_COLUMNS))
    rows = []
    for annotator, mine in cal.groupby("annotator_id", sort=True):
        firsts = mine.groupby("batch_id")["created_at"].min().reset_index()
        batches = firsts.sort_values(["created_at", "batch_id"])["batch_id"].tolist()
        kappas: list[float] = []
        for attempt, batch in enumerate(batches, start=1):
            answers = mine[mine["batch_id"] == batch]
            kappa = cohen_kappa(
                answers["code"].to_numpy(), answers["expected_code"].to_numpy(np.int64)
            )
            kappas.append(kappa)
            accuracy = float((answers["code"] == answers["expected_code"]).mean())
            step = certification_step(kappas, config).value
            rows.append((annotator, attempt, batch, len(answers), accuracy, kappa, step))
    return pd.DataFrame(rows, columns=list(CERTIFICATION_COLUMNS))

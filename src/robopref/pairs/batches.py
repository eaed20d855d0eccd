"""`select_batches`: a production batch plus, on request, calibration sets and ranking sets."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from robopref.pairs.calibration import select_calibration_sets
from robopref.pairs.config import PairsConfig
from robopref.pairs.ranking import select_ranking_sets
from robopref.pairs.records import PairBatch
from robopref.pairs.stratified import select_pairs


def select_batches(
    manifest: pd.DataFrame,
    config: PairsConfig,
    *,
    annotator_ids: Sequence[str],
    calibration: bool = False,
    ranking_sets: int = 0,
    batch_id: str | None = None,
    manifest_path: str = "manifest",
) -> list[PairBatch]:
    """Everything `robopref pairs` draws from one pool, in one call.

    Args:
        manifest: Pool manifest.
        config: Pair-selection settings.
        annotator_ids: Who annotates.
        calibration: Also draw `config.calibration_sets` calibration sets (the first
            assigned to every annotator).
        ranking_sets: Number of ranking sets to draw (0 for none).
        batch_id: Id of the production batch (derived from the seed by default).
        manifest_path: Named in error messages.

    Returns:
        The production batch, then the calibration sets, then the ranking batch.

    Raises:
        InputError: The pool cannot give what was asked (see `select_pairs`).
    """
    batches = [
        select_pairs(
            manifest, config, annotator_ids=annotator_ids, batch_id=batch_id,
            manifest_path=manifest_path,
        )
    ]  # fmt: skip
    if calibration:
        sets = select_calibration_sets(
            manifest, config, annotator_ids=annotator_ids, manifest_path=manifest_path
        )
        batches += [s.batch for s in sets]
    if ranking_sets:
        batches.append(
            select_ranking_sets(
                manifest, config, annotator_ids=annotator_ids, n_sets=ranking_sets,
                manifest_path=manifest_path,
            )
        )  # fmt: skip
    return batches

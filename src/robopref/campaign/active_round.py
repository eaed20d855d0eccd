"""One active round after a campaign: the pairs the model is least sure of, answered and QA'd.

What a lead runs once a first reward model exists (`robopref pairs --active MODEL` and the
web app do the same by hand): draw an active batch for the certified annotators, have it
answered, and re-run QA over everything, so the next model trains on both batches.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from robopref.campaign.config import CampaignConfig
from robopref.pairs.active import select_active
from robopref.pairs.config import ActiveConfig
from robopref.pairs.records import PairBatch
from robopref.pool.pool import Pool
from robopref.pool.trajectory import Trajectory
from robopref.quality import QAResult, run_qa
from robopref.scoring import Scorer
from robopref.store import Store, annotations_frame, create_batch, pairs_frame
from robopref.teachers import cast_roster, label_batch, parse_roster, simulated_labelers
from robopref.teachers.truth import truth_from_frame


@dataclass(frozen=True)
class ActiveRound:
    """The active batch and the QA over every batch answered so far."""

    batch: PairBatch
    answered: int
    qa: QAResult


def run_active_round(
    store: Store,
    pool: Pool,
    model: Scorer[Trajectory],
    config: CampaignConfig,
    *,
    annotator_ids: list[str],
    batch_size: int,
    out_dir: Path,
) -> ActiveRound:
    """Draw, store and (with simulated annotators) answer one active batch, then re-run QA.

    Raises:
        InputError: The pool cannot give the batch, or `out_dir` is not a QA folder.
    """
    stored = pairs_frame(store)
    labelled = list(zip(stored["trajectory_a_id"], stored["trajectory_b_id"], strict=True))
    pairs_config = replace(config.pairs, seed=config.pairs.seed + 1)
    batch = select_active(
        pool, model, annotator_ids=annotator_ids, pairs_config=pairs_config,
        config=ActiveConfig(batch_size=batch_size), labelled=labelled, batch_id="active-1",
    )  # fmt: skip
    create_batch(store, batch)
    cast = cast_roster(parse_roster(config.production_roster), annotator_ids)
    truth = truth_from_frame(pool.manifest, config.truth)
    answered = label_batch(store, batch.batch_id, simulated_labelers(cast, truth), seed=config.seed)
    qa = run_qa(annotations_frame(store), pairs_frame(store), config.qa, out_dir=out_dir)
    return ActiveRound(batch=batch, answered=answered, qa=qa)

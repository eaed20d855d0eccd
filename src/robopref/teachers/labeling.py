"""`label_batch`: labelers (simulated people, AI labelers) answer their assignments in the store."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from robopref.errors import InputError
from robopref.progress import ProgressCallback, no_progress
from robopref.store import (
    Store,
    Submission,
    assignments_frame,
    pairs_frame,
    skip_assignment,
    submit_annotation,
)
from robopref.store.models import utcnow
from robopref.teachers.labeler import Labeler, PairView
from robopref.types import PairKind

logger = logging.getLogger(__name__)


def label_batch(
    store: Store,
    batch_id: str,
    labelers: Labeler | Sequence[Labeler],
    *,
    seed: int,
    progress: ProgressCallback = no_progress,
) -> int:
    """Have each labeler answer its open assignments in `batch_id`.

    Answers go through `submit_annotation`, like a person's, with idempotency key
    `<provenance.key_prefix>-<seed>-<pair_id>` (`sim-<seed>-<pair_id>` for simulated people)
    and the provenance's `interface_version`: rerunning (or resuming) writes nothing twice.
    Assignments a labeler abstains on are marked skipped.

    Args:
        store: The annotation store.
        batch_id: The batch to answer.
        labelers: One labeler or several, each answering its own annotator's assignments;
            assignments of other annotators are left open.
        seed: Passed to every `label` call and part of every idempotency key.
        progress: Called after each assignment.

    Returns:
        Annotations newly stored.

    Raises:
        InputError: The batch has no pairs, two labelers share an annotator id, or a
            labeler cannot judge one of the batch's trajectories (checked before any write).
    """
    labelers = [labelers] if isinstance(labelers, Labeler) else list(labelers)
    pairs = {str(r["pair_id"]): r for r in pairs_frame(store, batch_id).to_dict("records")}
    if not pairs:
        raise InputError(batch_id, "batch_id", "no pairs in this batch")
    by_id = _by_annotator(batch_id, labelers)
    used = {str(p[k]) for p in pairs.values() for k in ("trajectory_a_id", "trajectory_b_id")}
    for labeler in by_id.values():
        try:
            labeler.check_trajectories(used)
        except InputError as exc:
            raise InputError(batch_id, exc.field, exc.message) from exc
    todo = [
        r for r in assignments_frame(store, batch_id).to_dict("records")
        if not r["completed"] and not r["skipped"] and r["annotator_id"] in by_id
    ]
    created = skipped = 0
    for done, row in enumerate(todo, start=1):
        view = pair_view(pairs[row["pair_id"]], left_trajectory_id=row["left_trajectory_id"])
        outcome = _answer(store, by_id[row["annotator_id"]], view, seed=seed)
        created += outcome is True
        skipped += outcome is None
        progress(done, len(todo))
    logger.info("batch %s: %d annotations, %d skipped", batch_id, created, skipped)
    return created


def pair_view(pair: Mapping[Any, Any], *, left_trajectory_id: str) -> PairView:
    """The view of a store pair row (`PAIR_COLUMNS`) an annotator gets: no gold answer."""
    return PairView(
        pair_id=str(pair["pair_id"]),
        trajectory_a_id=str(pair["trajectory_a_id"]),
        trajectory_b_id=str(pair["trajectory_b_id"]),
        left_trajectory_id=str(left_trajectory_id),
        kind=PairKind(pair["kind"]),
        task=str(pair["task"]),
    )


def _by_annotator(batch_id: str, labelers: Sequence[Labeler]) -> dict[str, Labeler]:
    by_id: dict[str, Labeler] = {}
    for labeler in labelers:
        if labeler.annotator_id in by_id:
            raise InputError(batch_id, "annotators", f"two labelers for {labeler.annotator_id!r}")
        by_id[labeler.annotator_id] = labeler
    return by_id


def _answer(store: Store, labeler: Labeler, pair: PairView, *, seed: int) -> bool | None:
    """Submit (True: stored now, False: stored before) or skip (None) one assignment."""
    answer = labeler.label(pair, seed=seed)
    if answer is None:
        skip_assignment(store, labeler.annotator_id, pair.pair_id)
        return None
    provenance = labeler.provenance
    return submit_annotation(store, Submission(
        annotator_id=labeler.annotator_id, pair_id=pair.pair_id,
        preference=answer.preference, confidence=answer.confidence,
        response_time_ms=answer.response_time_ms, left_trajectory_id=pair.left_trajectory_id,
        idempotency_key=f"{provenance.key_prefix}-{seed}-{pair.pair_id}",
        interface_version=provenance.interface_version,
        shown_at=utcnow() - timedelta(milliseconds=answer.response_time_ms),
    )).created

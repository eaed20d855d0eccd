"""What an annotator is served next: their phase, the next pair, prefetch, progress, rankings."""

from __future__ import annotations

from dataclasses import dataclass

from robopref.campaign.live_certification import Phase, decide_phase, kinds_served
from robopref.store import (
    Progress,
    QueueItem,
    RankingQueueItem,
    Store,
    annotator_work,
    is_certified,
    next_ranking,
)


@dataclass(frozen=True, kw_only=True)
class NextWork:
    """Everything GET /api/next answers, in store terms (trajectory ids, not display ids)."""

    phase: Phase
    progress: Progress
    """Done / assigned pairs of this phase (calibration: of the set not yet scored)."""
    assignment: QueueItem | None
    """The pair to show now (marked shown), or None."""
    upcoming: tuple[QueueItem, ...]
    """The pairs after it, for prefetching their clips."""
    rankings_waiting: int
    """Ranking sets to do (production only; 0 otherwise)."""
    feedback_available: bool
    """A calibration attempt has been scored (its feedback can be shown)."""


def next_work(store: Store, annotator_id: str, *, upcoming: int = 2) -> NextWork:
    """The annotator's phase and next pair: calibration sets until certified, then production.

    One read transaction (`annotator_work`); the pair returned is marked shown, the
    upcoming ones are not.
    """
    work = annotator_work(store, annotator_id, kinds_for=kinds_served, upcoming=upcoming)
    item = work.queue[0] if work.queue else None
    rankings = work.rankings_waiting if work.certified else 0
    phase = decide_phase(certified=work.certified, has_pair=item is not None, rankings=rankings)
    # calibration counts the set being taken, not those already scored
    excluding = set(work.scored_batch_ids) if phase is Phase.CALIBRATION else set()
    counted = [p for batch, p in work.progress_by_batch.items() if batch not in excluding]
    progress = Progress(done=sum(p.done for p in counted),
                        assigned=sum(p.assigned for p in counted))
    return NextWork(phase=phase, progress=progress, assignment=item, upcoming=work.queue[1:],
                    rankings_waiting=rankings, feedback_available=bool(work.scored_batch_ids))


def next_ranking_for(store: Store, annotator_id: str) -> RankingQueueItem | None:
    """The annotator's next ranking set; None until they are certified (production only)."""
    if not is_certified(store, annotator_id):
        return None
    return next_ranking(store, annotator_id)

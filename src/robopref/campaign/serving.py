"""What an annotator is served next: their phase, the next pair, prefetch, progress, rankings."""

from __future__ import annotations

from dataclasses import dataclass

from robopref.campaign.live_certification import Phase, decide_phase, kinds_served
from robopref.store import (
    Progress,
    QueueItem,
    RankingQueueItem,
    Store,
    assignment_progress,
    is_certified,
    next_assignment,
    next_ranking,
    rankings_waiting,
    scored_batch_ids,
    upcoming_assignments,
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

    The pair returned is marked shown; the upcoming ones are not.
    """
    certified = is_certified(store, annotator_id)
    kinds = kinds_served(certified)
    item = next_assignment(store, annotator_id, kinds=kinds)
    later = tuple(upcoming_assignments(store, annotator_id, k=upcoming, kinds=kinds)) \
        if item is not None else ()
    rankings = rankings_waiting(store, annotator_id) if certified else 0
    scored = scored_batch_ids(store, annotator_id)
    phase = decide_phase(certified=certified, has_pair=item is not None, rankings=rankings)
    # calibration counts the set being taken, not those already scored
    excluding = scored if phase is Phase.CALIBRATION else ()
    progress = assignment_progress(store, annotator_id, kinds=kinds, excluding=excluding)
    return NextWork(phase=phase, progress=progress, assignment=item, upcoming=later,
                    rankings_waiting=rankings, feedback_available=bool(scored))


def next_ranking_for(store: Store, annotator_id: str) -> RankingQueueItem | None:
    """The annotator's next ranking set; None until they are certified (production only)."""
    if not is_certified(store, annotator_id):
        return None
    return next_ranking(store, annotator_id)

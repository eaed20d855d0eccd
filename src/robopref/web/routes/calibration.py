"""GET /api/calibration/feedback: the caller's latest calibration attempt, pair by pair."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from robopref.campaign import FeedbackItem, calibration_feedback
from robopref.web.clip_index import ClipIndex
from robopref.web.deps import SessionDep, StoreDep
from robopref.web.routes.annotate import ClipIndexDep, QAConfigDep, clip_public
from robopref.web.schemas import FeedbackItemPublic, FeedbackPublic, Side

router = APIRouter(prefix="/api/calibration", tags=["calibration"])


def _item(item: FeedbackItem, index: ClipIndex) -> FeedbackItemPublic:
    a = item.answer
    return FeedbackItemPublic(
        task=a.task,
        left=clip_public(index, a.left_trajectory_id, a.left_clip_path),
        right=clip_public(index, a.right_trajectory_id, a.right_clip_path),
        your_choice=Side(item.your_side),
        expert_choice=None if item.expert_side is None else Side(item.expert_side),
        agreed=item.agreed, rationale=a.rationale,
    )


@router.get("/feedback")
def feedback(session: SessionDep, store: StoreDep, qa: QAConfigDep,
             index: ClipIndexDep) -> FeedbackPublic:
    """Kappa, verdict and what comes next, with your and the expert's answer per pair.

    Lists only pairs the caller answered, sides as they were shown to the caller.

    Raises:
        HTTPException: 404 before the caller's first attempt was scored.
    """
    found = calibration_feedback(store, session.annotator_id, qa)
    if found is None:
        raise HTTPException(404, "no feedback yet: it appears once you finish a set")
    return FeedbackPublic(kappa=found.kappa, threshold=found.threshold, passed=found.passed,
                          attempt=found.attempt, next=found.next,
                          items=[_item(i, index) for i in found.items])

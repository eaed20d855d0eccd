"""The annotator API: the caller's next pair, submit and skip, by opaque ids only."""

from __future__ import annotations

from fastapi import APIRouter, Request

from robopref.store import (
    QueueItem,
    Submission,
    next_assignment,
    skip_assignment,
    submit_annotation,
)
from robopref.store.assigned import AssignedPair
from robopref.types import Choice
from robopref.web.clip_index import ClipIndex
from robopref.web.deps import (
    PAIR_KIND,
    OwnedDep,
    OwnedSubmission,
    OwnedSubmissionDep,
    SessionDep,
    SettingsDep,
    StoreDep,
)
from robopref.web.schemas import AssignmentPublic, ClipPublic, Ok, QueueDone, Side, SubmitPublic
from robopref.web.signing import display_id

router = APIRouter(prefix="/api", tags=["annotate"])

INTERFACE_VERSION = "web-api-1"
"""Recorded with each answer when the client names no version of its own."""


def _clip(index: ClipIndex, trajectory_id: str, clip_path: str | None) -> ClipPublic:
    shown_id = index.display_id(trajectory_id)
    return ClipPublic(display_id=shown_id,
                      clip_url=None if clip_path is None else f"/clips/{shown_id}.mp4")


def _public(item: QueueItem, index: ClipIndex, secret: str) -> AssignmentPublic:
    return AssignmentPublic(
        assignment_id=display_id(secret, PAIR_KIND, item.pair_id), task=item.task,
        left=_clip(index, item.left_trajectory_id, item.left_clip_path),
        right=_clip(index, item.right_trajectory_id, item.right_clip_path),
        remaining=item.remaining,
    )


@router.get("/next")
def next_pair(request: Request, session: SessionDep, store: StoreDep,
              settings: SettingsDep) -> QueueDone:
    """The caller's next pair (`assignment` is null when their queue is empty)."""
    item = next_assignment(store, session.annotator_id)
    if item is None:
        return QueueDone(assignment=None)
    index: ClipIndex = request.app.state.clip_index
    return QueueDone(assignment=_public(item, index, settings.secret.get_secret_value()))


def to_submission(owned: OwnedSubmission) -> Submission:
    """The store's Submission for an owned submit: the screen side mapped back to A/B."""
    body, pair = owned.body, owned.owned.pair
    return Submission(
        annotator_id=owned.owned.annotator_id, pair_id=pair.pair_id,
        preference=_choice(body.choice, pair), confidence=body.confidence,
        response_time_ms=body.response_time_ms, left_trajectory_id=pair.left_trajectory_id,
        idempotency_key=body.idempotency_key, free_text_reason=body.reason or None,
        rubric_answers=body.rubric, interface_version=body.interface_version or INTERFACE_VERSION,
    )


def _choice(side: Side, pair: AssignedPair) -> Choice:
    """Left/right/equal as the pair's A/B/equal, through the presentation order."""
    if side is Side.EQUAL:
        return Choice.EQUAL
    chosen = pair.left_trajectory_id if side is Side.LEFT else pair.right_trajectory_id
    return Choice.A if chosen == pair.trajectory_a_id else Choice.B


@router.post("/submit")
def submit(owned: OwnedSubmissionDep, store: StoreDep) -> SubmitPublic:
    """Store one answer; a retry with the same idempotency key is stored once."""
    result = submit_annotation(store, to_submission(owned))
    return SubmitPublic(created=result.created)


@router.post("/skip")
def skip(owned: OwnedDep, store: StoreDep) -> Ok:
    """Take the pair out of the caller's queue unanswered."""
    skip_assignment(store, owned.annotator_id, owned.pair.pair_id)
    return Ok()

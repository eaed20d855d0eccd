"""The annotator API: the caller's phase and next pair, submit and skip, by opaque ids only."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel

from robopref.campaign import NextWork, finish_if_calibration_done, next_work
from robopref.quality import QAConfig
from robopref.store import QueueItem, Store, Submission, skip_assignment, submit_annotation
from robopref.store.assigned import AssignedPair
from robopref.types import Choice
from robopref.web.clip_index import ClipIndex
from robopref.web.deps import (
    Owned,
    OwnedDep,
    SessionDep,
    StoreDep,
    WriteSessionDep,
    pair_index,
    require_owned,
)
from robopref.web.pair_index import PairIndex
from robopref.web.schemas import (
    AssignmentPublic,
    ClipPublic,
    NextPublic,
    Ok,
    ProgressPublic,
    Side,
    SubmitBody,
    SubmitPublic,
)
from robopref.web.signing import SessionData
from robopref.web.store_threads import in_store_thread, read_on_loop

router = APIRouter(prefix="/api", tags=["annotate"])

INTERFACE_VERSION = "web-api-1"
"""Recorded with each answer when the client names no version of its own."""
PREFETCH_PAIRS = 2
"""Pairs after the current one whose clips GET /api/next lists for prefetching."""


async def get_clip_index(request: Request) -> ClipIndex:
    """The app's clip index (display id ↔ trajectory id)."""
    index: ClipIndex = request.app.state.clip_index
    return index


async def get_qa_config(request: Request) -> QAConfig:
    """The QA settings calibration attempts are scored with (`create_app` sets them)."""
    config: QAConfig = request.app.state.qa_config
    return config


ClipIndexDep = Annotated[ClipIndex, Depends(get_clip_index)]
QAConfigDep = Annotated[QAConfig, Depends(get_qa_config)]


def clip_public(index: ClipIndex, trajectory_id: str, clip_path: str | None) -> ClipPublic:
    """A clip as an annotator sees it: its display id and URL (None when not rendered)."""
    shown_id = index.display_id(trajectory_id)
    return ClipPublic(display_id=shown_id,
                      clip_url=None if clip_path is None else f"/clips/{shown_id}.mp4")


def _public(item: QueueItem, index: ClipIndex, pairs: PairIndex) -> AssignmentPublic:
    return AssignmentPublic(
        assignment_id=pairs.assignment_id(item.pair_id), task=item.task,
        left=clip_public(index, item.left_trajectory_id, item.left_clip_path),
        right=clip_public(index, item.right_trajectory_id, item.right_clip_path),
        remaining=item.remaining, rubric=item.rubric,
    )


def _prefetch(items: Iterable[QueueItem], index: ClipIndex) -> list[str]:
    urls: list[str] = []
    for item in items:
        for trajectory_id, path in ((item.left_trajectory_id, item.left_clip_path),
                                    (item.right_trajectory_id, item.right_clip_path)):
            url = clip_public(index, trajectory_id, path).clip_url
            if url is not None and url not in urls:
                urls.append(url)
    return urls


def json_reply(model: BaseModel) -> Response:
    """`model` as the JSON reply, serialised once by pydantic.

    The hot routes build their response model themselves (validated as it is built) and
    return it as bytes, so FastAPI does not validate and serialise it a second time; the
    decorator's `response_model` still documents the shape.
    """
    return Response(model.model_dump_json(), media_type="application/json")


@router.get("/next", response_model=NextPublic)
async def next_pair(request: Request, session: SessionDep) -> Response:
    """The caller's phase, progress and next pair (`assignment` null when there is none).

    Calibration sets until the caller is certified, production batches after. The store's
    work is one read (`web.store_threads.read_on_loop`).
    """
    state = request.app.state
    pairs = pair_index(request)
    work = await read_on_loop(state, next_work, state.store, session.annotator_id,
                              upcoming=PREFETCH_PAIRS)
    if work.assignment is not None:  # its submit's ownership check needs no read
        pairs.remember_served(session.annotator_id, work.assignment)
    return json_reply(next_public(work, state.clip_index, pairs))


def next_public(work: NextWork, index: ClipIndex, pairs: PairIndex) -> NextPublic:
    """What GET /api/next answers for `work`: opaque ids only."""
    return NextPublic(
        phase=work.phase,
        progress=ProgressPublic(done=work.progress.done, assigned=work.progress.assigned),
        assignment=None if work.assignment is None else _public(work.assignment, index, pairs),
        upcoming=_prefetch(work.upcoming, index), rankings_waiting=work.rankings_waiting,
        feedback_available=work.feedback_available,
    )


def to_submission(owned: Owned, body: SubmitBody) -> Submission:
    """The store's Submission for an owned submit: the screen side mapped back to A/B."""
    pair = owned.pair
    return Submission(
        annotator_id=owned.annotator_id, pair_id=pair.pair_id,
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


@router.post("/submit", response_model=SubmitPublic)
async def submit(request: Request, session: WriteSessionDep, body: SubmitBody) -> Response:
    """Store one answer; a retry with the same idempotency key is stored once.

    The answer that finishes a calibration set scores it (`calibration_complete`). The
    ownership check (403 for a pair that is not the caller's) and the store's work run in
    one trip to the store threads (`web.store_threads`).
    """
    state = request.app.state
    answer = partial(_store_answer, state.store, pair_index(request), state.qa_config)
    return json_reply(await in_store_thread(state, answer, session, body))


def _store_answer(store: Store, pairs: PairIndex, qa: QAConfig, session: SessionData,
                  body: SubmitBody) -> SubmitPublic:
    owned = require_owned(pairs, session, body.assignment_id)
    result = submit_annotation(store, to_submission(owned, body))
    pair = owned.pair
    complete = finish_if_calibration_done(store, owned.annotator_id, pair.pair_id, qa,
                                          batch=(pair.batch_id, pair.batch_kind))
    return SubmitPublic(created=result.created, calibration_complete=complete)


@router.post("/skip")
def skip(owned: OwnedDep, store: StoreDep, qa: QAConfigDep) -> Ok:
    """Take the pair out of the caller's queue unanswered (it may finish a calibration set)."""
    skip_assignment(store, owned.annotator_id, owned.pair.pair_id)
    finish_if_calibration_done(store, owned.annotator_id, owned.pair.pair_id, qa,
                               batch=(owned.pair.batch_id, owned.pair.batch_kind))
    return Ok()

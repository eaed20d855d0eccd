"""The ranking API: the caller's next ranking set and their best → worst order of it."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException

from robopref.campaign import next_ranking_for
from robopref.store import (
    RANKING_FLAGS,
    RankingQueueItem,
    RankingSubmission,
    assigned_ranking_set_ids,
    ranking_set_members,
    submit_ranking,
)
from robopref.web.clip_index import ClipIndex
from robopref.web.deps import SessionDep, SettingsDep, StoreDep, WriteSessionDep
from robopref.web.routes.annotate import ClipIndexDep, clip_public
from robopref.web.schemas import (
    CreatedPublic,
    RankingBody,
    RankingFlag,
    RankingNextPublic,
    RankingPublic,
)
from robopref.web.signing import display_id

router = APIRouter(prefix="/api/ranking", tags=["ranking"])

RANKING_KIND = "ranking"
"""`display_id` kind of ranking ids."""


@dataclass(frozen=True)
class OwnedRanking:
    """A ranking body whose set is assigned to the caller."""

    annotator_id: str
    """The caller."""
    ranking_set_id: str
    """Their ranking set."""
    body: RankingBody
    """What they sent."""


def owned_ranking(body: RankingBody, session: WriteSessionDep, store: StoreDep,
                  settings: SettingsDep) -> OwnedRanking:
    """The body, its ranking set checked to be assigned to the caller (403 otherwise)."""
    secret = settings.secret.get_secret_value()
    for set_id in assigned_ranking_set_ids(store, session.annotator_id):
        if hmac.compare_digest(display_id(secret, RANKING_KIND, set_id), body.ranking_id):
            return OwnedRanking(session.annotator_id, set_id, body)
    raise HTTPException(403, "this ranking set is not yours")


OwnedRankingDep = Annotated[OwnedRanking, Depends(owned_ranking)]


def _public(item: RankingQueueItem, index: ClipIndex, secret: str) -> RankingPublic:
    clips = [clip_public(index, t, path)
             for t, path in zip(item.trajectory_ids, item.clip_paths, strict=True)]
    return RankingPublic(ranking_id=display_id(secret, RANKING_KIND, item.ranking_set_id),
                         task=item.task, clips=clips,
                         flags=[RankingFlag(f) for f in RANKING_FLAGS], remaining=item.remaining)


@router.get("/next")
def next_set(session: SessionDep, store: StoreDep, settings: SettingsDep,
             index: ClipIndexDep) -> RankingNextPublic:
    """The caller's next ranking set (null when none waits, or before certification)."""
    item = next_ranking_for(store, session.annotator_id)
    if item is None:
        return RankingNextPublic(ranking=None)
    return RankingNextPublic(ranking=_public(item, index, settings.secret.get_secret_value()))


def _to_submission(owned: OwnedRanking, members: tuple[str, ...],
                   index: ClipIndex) -> RankingSubmission:
    """The store's submission: display ids mapped back to the set's trajectories.

    Raises:
        HTTPException: 422 naming `order` or `flags` for a clip id outside the set.
    """
    by_display = {index.display_id(t): t for t in members}
    body = owned.body
    unknown = [d for d in body.order if d not in by_display]
    if unknown:
        raise HTTPException(422, "order: names clips that are not in this ranking set")
    if any(d not in by_display for d in body.flags):
        raise HTTPException(422, "flags: names clips that are not in this ranking set")
    return RankingSubmission(
        annotator_id=owned.annotator_id, ranking_set_id=owned.ranking_set_id,
        trajectory_ids=tuple(by_display[d] for d in body.order),
        response_time_ms=body.response_time_ms, idempotency_key=body.idempotency_key,
        flags={by_display[d]: tuple(f.value for f in flags) for d, flags in body.flags.items()},
    )


@router.post("/submit")
def submit(owned: OwnedRankingDep, store: StoreDep, index: ClipIndexDep) -> CreatedPublic:
    """Store the caller's best → worst order (every clip once) and per-clip flags.

    A retry with the same idempotency key is stored once (`created` false).
    """
    members = ranking_set_members(store, owned.ranking_set_id)
    result = submit_ranking(store, _to_submission(owned, members, index))
    return CreatedPublic(created=result.created)

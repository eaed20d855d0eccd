"""The admin API: dashboard data, accounts and tokens, exclusions, batches, export and plots.

Every route answers only a signed-in admin (401 without a session, 403 otherwise); writes
also need the session's `X-CSRF-Token`. Replies are never cached (`Cache-Control: no-store`):
they carry tokens, free text and labels.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Response

from robopref.campaign import invite_annotator
from robopref.errors import InputError
from robopref.store import Role, Store, issue_token, set_batch_status
from robopref.store.admin import account, pair_detail, revoke_token, set_excluded
from robopref.web.admin_deps import AdminDep, AdminWriteDep
from robopref.web.dashboard.batches import create_admin_batch
from robopref.web.dashboard.cache import TTLCache, dashboard_cache
from robopref.web.dashboard.export import MEDIA_TYPES, preferences_file
from robopref.web.dashboard.live_qa import LiveQA, live_qa
from robopref.web.dashboard.overview import build_overview
from robopref.web.dashboard.plots import RENDERERS
from robopref.web.dashboard.schemas import (
    AnnotatorCreate,
    AnswerPublic,
    BatchCreate,
    BatchCreated,
    BatchStatusPublic,
    ExclusionBody,
    ExclusionPublic,
    Overview,
    PairPublic,
    TokenPublic,
)
from robopref.web.deps import SettingsDep, StoreDep
from robopref.web.schemas import Ok

NO_STORE = {"Cache-Control": "no-store"}


def _no_store(response: Response) -> None:
    response.headers.update(NO_STORE)


router = APIRouter(prefix="/api/admin", tags=["admin"], dependencies=[Depends(_no_store)])
CacheDep = Annotated[TTLCache, Depends(dashboard_cache)]


@router.get("/overview")
def overview(admin: AdminDep, store: StoreDep, cache: CacheDep) -> Overview:
    """Batches, annotators, live QA, disagreement and recent reasons (at most 5 s old)."""
    return cache.get("overview", lambda: build_overview(store, _live_qa(store, cache)))


def _live_qa(store: Store, cache: TTLCache) -> LiveQA:
    return cache.get("live_qa", lambda: live_qa(store))


@router.get("/pairs/{pair_id}")
def pair(pair_id: str, admin: AdminDep, store: StoreDep) -> PairPublic:
    """A pair and every answer to it, reasons verbatim."""
    found = pair_detail(store, pair_id)
    if found is None:
        raise HTTPException(404, "no such pair")
    answers = [AnswerPublic(annotator_id=a.annotator_id, preference=a.preference,
                            confidence=a.confidence, reason=a.reason,
                            response_time_ms=a.response_time_ms,
                            left_trajectory_id=a.left_trajectory_id, created_at=a.created_at)
               for a in found.annotations]
    return PairPublic(
        pair_id=found.pair_id, batch_id=found.batch_id, task=found.task, kind=found.kind,
        stratum=found.stratum, quartile_a=found.quartile_a, quartile_b=found.quartile_b,
        trajectory_a_id=found.trajectory_a_id, trajectory_b_id=found.trajectory_b_id,
        expected_preference=found.expected_preference, annotations=answers,
    )


@router.post("/annotators")
def add_account(body: AnnotatorCreate, admin: AdminWriteDep, store: StoreDep,
                cache: CacheDep) -> TokenPublic:
    """Create an account (or give an existing one a new token); the token is shown once.

    An annotator who is not certified and holds no calibration set gets the first open one.
    """
    existing = account(store, body.annotator_id)
    role = body.role or (Role(existing.role) if existing is not None else Role.ANNOTATOR)
    invited = invite_annotator(store, body.annotator_id, role=role, reissue=True)
    cache.clear()
    return TokenPublic(annotator_id=invited.annotator_id, token=invited.token,
                       created=invited.created, calibration_batch_id=invited.calibration_batch_id)


@router.post("/annotators/{annotator_id}/token")
def reissue(annotator_id: str, admin: AdminWriteDep, store: StoreDep,
            cache: CacheDep) -> TokenPublic:
    """A new token for an existing account: the old one and its sessions stop working."""
    if account(store, annotator_id) is None:
        raise HTTPException(404, "no such annotator")
    token = issue_token(store, annotator_id)
    cache.clear()
    return TokenPublic(annotator_id=annotator_id, token=token, created=False)


@router.delete("/annotators/{annotator_id}/token")
def revoke(annotator_id: str, admin: AdminWriteDep, store: StoreDep, cache: CacheDep) -> Ok:
    """Revoke the account's token: it no longer signs in and its live sessions end."""
    if annotator_id == admin.annotator_id:
        raise HTTPException(409, "that is your own token: another admin must revoke it")
    if not revoke_token(store, annotator_id):
        raise HTTPException(404, "no such annotator")
    cache.clear()
    return Ok()


@router.post("/annotators/{annotator_id}/exclusion")
def exclusion(annotator_id: str, body: ExclusionBody, admin: AdminWriteDep, store: StoreDep,
              cache: CacheDep) -> ExclusionPublic:
    """Leave an annotator's labels out of aggregation and the export, or take them back."""
    if not set_excluded(store, annotator_id, body.excluded):
        raise HTTPException(404, "no such annotator")
    cache.clear()
    return ExclusionPublic(annotator_id=annotator_id, excluded=body.excluded)


@router.post("/batches")
def create(body: BatchCreate, admin: AdminWriteDep, store: StoreDep, settings: SettingsDep,
           cache: CacheDep) -> BatchCreated:
    """Draw and store a stratified, calibration or ranking batch over the rendered clips."""
    created = create_admin_batch(store, settings.pool, body)
    cache.clear()
    return created


@router.post("/batches/{batch_id}/close")
def close(batch_id: str, admin: AdminWriteDep, store: StoreDep,
          cache: CacheDep) -> BatchStatusPublic:
    """Stop serving a batch's assignments (answers already given stay)."""
    try:
        set_batch_status(store, batch_id, "closed")
    except InputError as error:
        if error.field == "batch_id":
            raise HTTPException(404, "no such batch") from None
        raise
    cache.clear()
    return BatchStatusPublic(batch_id=batch_id, status="closed")


@router.get("/export/preferences.{fmt}")
def export(fmt: str, admin: AdminDep, store: StoreDep) -> Response:
    """The aggregated preferences now (PREFERENCES_SCHEMA; excluded annotators left out)."""
    if fmt not in MEDIA_TYPES:
        raise HTTPException(404, "export as preferences.parquet or preferences.jsonl")
    body = preferences_file(live_qa(store).preferences, fmt)
    headers = {**NO_STORE, "Content-Disposition": f'attachment; filename="preferences.{fmt}"'}
    return Response(body, media_type=MEDIA_TYPES[fmt], headers=headers)


@router.get("/plots/{name}.png")
def plot(name: str, admin: AdminDep, store: StoreDep,
         cache: CacheDep) -> Response:
    """A dashboard plot as PNG (`throughput`, `qa`, `tiers`, `response_times`)."""
    render = RENDERERS.get(name)
    if render is None:
        raise HTTPException(404, f"plots: {', '.join(RENDERERS)}")
    png = cache.get(f"plot:{name}", lambda: render(store, _live_qa(store, cache)))
    return Response(png, media_type="image/png", headers=NO_STORE)

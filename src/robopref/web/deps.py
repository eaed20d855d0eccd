"""Request dependencies: the store, the signed-in annotator, CSRF, and owned assignments."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from robopref.store import Store
from robopref.store.assigned import AssignedPair, assigned_pairs, token_hash
from robopref.web.schemas import AssignmentRef, SubmitBody
from robopref.web.settings import Settings
from robopref.web.signing import (
    SessionData,
    display_id,
    is_csrf_valid,
    read_session,
    token_tag,
)

SESSION_COOKIE = "robopref_session"
"""Name of the HttpOnly, SameSite=Strict session cookie."""
CSRF_HEADER = "X-CSRF-Token"
"""Header every state-changing request must carry (the token from POST /api/session)."""
PAIR_KIND = "pair"
"""`display_id` kind of assignment ids."""


def get_settings(request: Request) -> Settings:
    """The settings `create_app` was given."""
    settings: Settings = request.app.state.settings
    return settings


def get_store(request: Request) -> Store:
    """The store opened when the app started (its functions open a session per call)."""
    store: Store = request.app.state.store
    return store


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]


def current_session(request: Request, settings: SettingsDep, store: StoreDep) -> SessionData:
    """The signed-in annotator's session.

    Raises:
        HTTPException: 401 without a valid, unexpired session cookie, or when the token it
            was opened with has been replaced since.
    """
    secret = settings.secret.get_secret_value()
    data = read_session(secret, request.cookies.get(SESSION_COOKIE))
    if data is None:
        raise HTTPException(401, "sign in first: POST /api/session with your token")
    stored = token_hash(store, data.annotator_id)
    if stored is None or not hmac.compare_digest(token_tag(secret, stored), data.token_tag):
        raise HTTPException(401, "your token was replaced: sign in again")
    return data


SessionDep = Annotated[SessionData, Depends(current_session)]


def csrf_session(request: Request, session: SessionDep, settings: SettingsDep) -> SessionData:
    """The session of a state-changing request, after checking its CSRF header.

    Raises:
        HTTPException: 401 without a session, 403 when the CSRF header is missing or wrong.
    """
    header = request.headers.get(CSRF_HEADER)
    if not is_csrf_valid(settings.secret.get_secret_value(), session, header):
        raise HTTPException(403, f"missing or wrong {CSRF_HEADER} header")
    return session


WriteSessionDep = Annotated[SessionData, Depends(csrf_session)]


@dataclass(frozen=True)
class Owned:
    """An assignment that belongs to the caller."""

    annotator_id: str
    """The caller."""
    pair: AssignedPair
    """Their assignment."""


def find_owned(store: Store, secret: str, annotator_id: str, assignment_id: str) -> Owned | None:
    """The caller's assignment whose opaque id is `assignment_id`, or None."""
    for pair in assigned_pairs(store, annotator_id):
        if display_id(secret, PAIR_KIND, pair.pair_id) == assignment_id:
            return Owned(annotator_id, pair)
    return None


def require_owned(
    store: Store, settings: Settings, session: SessionData, assignment_id: str
) -> Owned:
    """The caller's assignment named `assignment_id`.

    Raises:
        HTTPException: 403 when it is not the caller's (or does not exist).
    """
    secret = settings.secret.get_secret_value()
    owned = find_owned(store, secret, session.annotator_id, assignment_id)
    if owned is None:
        raise HTTPException(403, "this assignment is not yours")
    return owned


def owned_assignment(
    body: AssignmentRef, session: WriteSessionDep, store: StoreDep, settings: SettingsDep
) -> Owned:
    """The assignment a skip names, checked to belong to the caller (403 otherwise)."""
    return require_owned(store, settings, session, body.assignment_id)


@dataclass(frozen=True)
class OwnedSubmission:
    """A submit body whose assignment belongs to the caller."""

    owned: Owned
    """The caller's assignment."""
    body: SubmitBody
    """What they answered."""


def owned_submission(
    body: SubmitBody, session: WriteSessionDep, store: StoreDep, settings: SettingsDep
) -> OwnedSubmission:
    """The submit body, its assignment checked to belong to the caller (403 otherwise)."""
    return OwnedSubmission(require_owned(store, settings, session, body.assignment_id), body)


OwnedDep = Annotated[Owned, Depends(owned_assignment)]
OwnedSubmissionDep = Annotated[OwnedSubmission, Depends(owned_submission)]

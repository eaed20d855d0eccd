"""Sign-in and sign-out: a login token in, a signed HttpOnly session cookie out."""

from __future__ import annotations

import time

from fastapi import APIRouter, HTTPException, Response

from robopref.store import annotator_for_token
from robopref.store.assigned import token_hash
from robopref.web.deps import (
    SESSION_COOKIE,
    SessionDep,
    SettingsDep,
    StoreDep,
    WriteSessionDep,
)
from robopref.web.schemas import Ok, SessionPublic, SignIn
from robopref.web.settings import Settings
from robopref.web.signing import (
    SessionData,
    csrf_token,
    new_session,
    sign_session,
    token_tag,
)

router = APIRouter(prefix="/api/session", tags=["session"])


def _public(settings: Settings, data: SessionData, expires_in_s: int) -> SessionPublic:
    return SessionPublic(annotator_id=data.annotator_id, role=data.role, expires_in_s=expires_in_s,
                         csrf_token=csrf_token(settings.secret.get_secret_value(), data))


@router.post("")
def sign_in(body: SignIn, response: Response, store: StoreDep,
            settings: SettingsDep) -> SessionPublic:
    """Exchange a login token for a session cookie; the reply carries the CSRF token."""
    found = annotator_for_token(store, body.token)
    if found is None:
        raise HTTPException(401, "unknown or revoked token")
    annotator_id, role = found
    stored = token_hash(store, annotator_id)
    secret = settings.secret.get_secret_value()
    tag = token_tag(secret, stored or "")
    data = new_session(annotator_id, role.value, tag, settings.session_max_age_s)
    response.set_cookie(
        SESSION_COOKIE, sign_session(secret, data),
        max_age=settings.session_max_age_s, httponly=True, samesite="strict",
        secure=settings.secure_cookies, path="/",
    )
    return _public(settings, data, settings.session_max_age_s)


@router.get("")
async def whoami(session: SessionDep, settings: SettingsDep) -> SessionPublic:
    """The signed-in annotator and the session's CSRF token (for a reloaded page).

    Reads no database (the session check is served from memory): runs on the event loop.
    """
    return _public(settings, session, max(0, int(session.expires_at - time.time())))


@router.delete("")
def sign_out(session: WriteSessionDep, response: Response) -> Ok:
    """Drop the session cookie."""
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return Ok()

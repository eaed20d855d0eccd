"""Request dependencies: the store, the signed-in annotator, CSRF, and owned assignments.

The checks every annotator request makes are served from per-process memory where they
can be: the login check (`LoginCheck`, the token hashes reloaded every 2 s) and ownership
(`PairIndex`, then one primary-key read). Dependencies that do no I/O are `async def`, so
FastAPI runs them on the event loop instead of sending each to the thread pool.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar

from fastapi import Depends, HTTPException, Request
from starlette.concurrency import run_in_threadpool

from robopref.store import Store
from robopref.store.assigned import AssignedPair
from robopref.web.login_check import LoginCheck
from robopref.web.pair_index import PAIR_KIND as PAIR_KIND  # routes name assignment ids by it
from robopref.web.pair_index import PairIndex
from robopref.web.schemas import AssignmentRef
from robopref.web.settings import Settings
from robopref.web.signing import (
    SessionData,
    is_csrf_valid,
    read_session,
)

SESSION_COOKIE = "robopref_session"
"""Name of the HttpOnly, SameSite=Strict session cookie."""
CSRF_HEADER = "X-CSRF-Token"
"""Header every state-changing request must carry (the token from POST /api/session)."""
_T = TypeVar("_T")
_STATE_LOCK = threading.Lock()


async def get_settings(request: Request) -> Settings:
    """The settings `create_app` was given."""
    settings: Settings = request.app.state.settings
    return settings


async def get_store(request: Request) -> Store:
    """The store opened when the app started (its functions open a session per call)."""
    store: Store = request.app.state.store
    return store


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]


def _per_app(request: Request, name: str, build: Callable[[], _T]) -> _T:
    """`request.app.state.<name>`, built on first use (once, also under concurrent requests)."""
    state = request.app.state
    found: _T | None = getattr(state, name, None)
    if found is None:
        with _STATE_LOCK:
            found = getattr(state, name, None)
            if found is None:
                found = build()
                setattr(state, name, found)
    return found


def _login_check(request: Request) -> LoginCheck:
    """This app's `LoginCheck` (built on first use)."""
    settings: Settings = request.app.state.settings
    secret = settings.secret.get_secret_value()
    return _per_app(request, "login_check", lambda: LoginCheck(request.app.state.store, secret))


async def get_login_check(request: Request) -> LoginCheck:
    """This app's `LoginCheck`."""
    return _login_check(request)


def pair_index(request: Request) -> PairIndex:
    """This app's `PairIndex` (built on first use), for routes that take no dependency on it."""
    settings: Settings = request.app.state.settings
    secret = settings.secret.get_secret_value()
    return _per_app(request, "pair_index", lambda: PairIndex(request.app.state.store, secret))


async def get_pair_index(request: Request) -> PairIndex:
    """This app's `PairIndex` (routes call `assignment_id` on it when they hand a pair out)."""
    return pair_index(request)


LoginCheckDep = Annotated[LoginCheck, Depends(get_login_check)]
PairIndexDep = Annotated[PairIndex, Depends(get_pair_index)]


async def current_session(request: Request) -> SessionData:
    """The signed-in annotator's session.

    Reads the app's state directly rather than through sub-dependencies: every
    authenticated request resolves it, and each dependency costs FastAPI a solve.

    Raises:
        HTTPException: 401 without a valid, unexpired session cookie, or when the token it
            was opened with has been replaced or revoked since (by another process: within
            `login_check.LOGIN_CHECK_TTL_S` seconds).
    """
    settings: Settings = request.app.state.settings
    data = read_session(settings.secret.get_secret_value(), request.cookies.get(SESSION_COOKIE))
    if data is None:
        raise HTTPException(401, "sign in first: POST /api/session with your token")
    logins = _login_check(request)
    current = logins.known_current(data.annotator_id, data.token_tag)
    if current is None:  # the copy is old or does not match: ask the store, off the loop
        current = await run_in_threadpool(logins.is_current, data.annotator_id, data.token_tag)
    if not current:
        raise HTTPException(401, "your token was replaced: sign in again")
    return data


SessionDep = Annotated[SessionData, Depends(current_session)]


async def csrf_session(request: Request) -> SessionData:
    """The session of a state-changing request, after checking its CSRF header.

    One dependency, not two (it calls `current_session` itself): each costs FastAPI a solve.

    Raises:
        HTTPException: 401 without a session, 403 when the CSRF header is missing or wrong.
    """
    session = await current_session(request)
    settings: Settings = request.app.state.settings
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


def require_owned(index: PairIndex, session: SessionData, assignment_id: str) -> Owned:
    """The caller's assignment named `assignment_id`.

    Raises:
        HTTPException: 403 when it is not the caller's (or does not exist).
    """
    pair = index.owned(session.annotator_id, assignment_id)
    if pair is None:
        raise HTTPException(403, "this assignment is not yours")
    return Owned(session.annotator_id, pair)


def owned_assignment(body: AssignmentRef, session: WriteSessionDep, index: PairIndexDep) -> Owned:
    """The assignment a skip names, checked to belong to the caller (403 otherwise)."""
    return require_owned(index, session, body.assignment_id)


OwnedDep = Annotated[Owned, Depends(owned_assignment)]

"""Admin-only request dependencies: a signed-in admin (401 / 403), CSRF-checked for writes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException

from robopref.store import Role
from robopref.store.admin import account
from robopref.web.deps import SessionDep, StoreDep, WriteSessionDep
from robopref.web.signing import SessionData


def _require_admin(session: SessionData, store: StoreDep) -> SessionData:
    # The role is read from the store, not the cookie: a demoted admin loses access at once.
    found = account(store, session.annotator_id)
    if found is None or found.role != Role.ADMIN.value:
        raise HTTPException(403, "admins only")
    return session


def admin_session(session: SessionDep, store: StoreDep) -> SessionData:
    """The signed-in admin.

    Raises:
        HTTPException: 401 without a valid session, 403 when the caller is not an admin.
    """
    return _require_admin(session, store)


def admin_write_session(session: WriteSessionDep, store: StoreDep) -> SessionData:
    """The signed-in admin of a state-changing request, CSRF header checked.

    Raises:
        HTTPException: 401 without a valid session, 403 without the right `X-CSRF-Token`
            or when the caller is not an admin.
    """
    return _require_admin(session, store)


AdminDep = Annotated[SessionData, Depends(admin_session)]
"""An admin's session (reads)."""
AdminWriteDep = Annotated[SessionData, Depends(admin_write_session)]
"""An admin's session whose request carries the right CSRF header (writes)."""

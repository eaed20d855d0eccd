"""Annotator accounts for a live campaign: create or reissue a token, start calibration."""

from __future__ import annotations

from dataclasses import dataclass

from robopref.campaign.live_certification import start_calibration
from robopref.errors import InputError
from robopref.store import Role, Store, add_annotator, issue_token
from robopref.store.admin import account


@dataclass(frozen=True, kw_only=True)
class Invitation:
    """An account ready to sign in: its token (shown once) and first calibration set."""

    annotator_id: str
    role: Role
    token: str
    """The login token; only its hash is stored."""
    created: bool
    """False when an existing account got a new token (the old one stopped working)."""
    calibration_batch_id: str | None
    """The calibration set assigned now (None: an admin, certified, or already holding one)."""


def invite_annotator(
    store: Store,
    annotator_id: str,
    *,
    role: Role | str = Role.ANNOTATOR,
    reissue: bool = False,
    seed: int = 0,
) -> Invitation:
    """Create an account (or, with `reissue`, give an existing one a new token).

    An annotator who is not certified and holds no calibration set gets the first open one
    (`start_calibration`), so their first sign-in serves it. Ids registered without a token
    (by a batch that names them) get one without `reissue`.

    Raises:
        InputError: The id cannot be stored, the role is unknown, the account already has a
            token and `reissue` is not set, or `role` differs from the existing account's.
    """
    try:
        wanted = Role(role)
    except ValueError:
        raise InputError(annotator_id, "role", f"{role!r} is not annotator or admin") from None
    existing = account(store, annotator_id)
    if existing is not None and existing.role != wanted.value:
        raise InputError(annotator_id, "role",
                         f"{annotator_id} is already {existing.role}; roles do not change")
    if existing is not None and existing.has_token:
        if not reissue:
            raise InputError(annotator_id, "annotator_id", "already exists with a token; "
                             "reissue it to replace the token (the old one stops working)")
        token = issue_token(store, annotator_id)
    else:
        token = add_annotator(store, annotator_id, wanted)
    calibration = None
    if wanted is Role.ANNOTATOR:
        calibration = start_calibration(store, annotator_id, seed=seed)
    return Invitation(annotator_id=annotator_id, role=wanted, token=token,
                      created=existing is None, calibration_batch_id=calibration)

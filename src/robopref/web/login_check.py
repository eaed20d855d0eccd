"""Per-process check that a session's login token is still current, refreshed every 2 s."""

from __future__ import annotations

import hmac
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, object_session

from robopref.store import Store
from robopref.store.assigned import token_hash, token_hashes
from robopref.store.models import Annotator
from robopref.web.signing import token_tag

LOGIN_CHECK_TTL_S = 2.0
"""How old the process's copy of the token hashes may get: a token revoked or replaced by
another process (another worker, `robopref annotators`) stops working within this many
seconds."""

_LIVE: weakref.WeakSet[LoginCheck] = weakref.WeakSet()
_LISTEN_LOCK = threading.Lock()
_listening = False
_CHANGED = "robopref_token_changes"


class LoginCheck:
    """Whether a session's login token is still the annotator's current one.

    Keeps every annotator's stored token hash in memory and reloads them all with one query
    when the copy is older than `ttl_s`, so requests read no database: a token revoked or
    replaced by another process stops working within `ttl_s`. A token changed through the
    store in this process (the ORM sets `Annotator.token_hash`) is forgotten when that
    transaction commits, so its sessions end at once. A hash that does not match is looked
    up again, so a sign-in newer than the copy is never refused.
    """

    def __init__(self, store: Store, secret: str, *, ttl_s: float = LOGIN_CHECK_TTL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """A check over `store`'s token hashes, tagged with `secret`."""
        self._store = store
        self._secret = secret
        self._ttl_s = ttl_s
        self._clock = clock
        self._hashes: dict[str, str] = {}
        self._changed: set[str] = set()
        self._loaded_at = float("-inf")
        self._lock = threading.Lock()
        _listen_for_token_changes()
        _LIVE.add(self)

    def known_current(self, annotator_id: str, tag: str) -> bool | None:
        """True when the copy (younger than the TTL) shows `tag` current; None: ask `is_current`.

        Reads no database, so it may run on the event loop.
        """
        if self._clock() - self._loaded_at >= self._ttl_s:
            return None
        stored = self._hashes.get(annotator_id)
        return True if stored is not None and self._matches(stored, tag) else None

    def is_current(self, annotator_id: str, tag: str) -> bool:
        """True when `tag` is the tag of the annotator's stored token hash (may read the store)."""
        if self._clock() - self._loaded_at >= self._ttl_s:
            self._reload()
        stored = self._hashes.get(annotator_id)
        if stored is not None and self._matches(stored, tag):
            return True
        stored = token_hash(self._store, annotator_id)
        if stored is None:
            self._hashes.pop(annotator_id, None)
            return False
        self._hashes[annotator_id] = stored
        return self._matches(stored, tag)

    def forget(self, annotator_id: str) -> None:
        """Drop the annotator's hash: their next request reads the store."""
        self._changed.add(annotator_id)
        self._hashes.pop(annotator_id, None)

    def _matches(self, stored: str, tag: str) -> bool:
        return hmac.compare_digest(token_tag(self._secret, stored), tag)

    def _reload(self) -> None:
        """Every token hash, in one query (one thread reloads; the others wait for it)."""
        with self._lock:
            started = self._clock()
            if started - self._loaded_at < self._ttl_s:
                return
            self._changed = set()
            fresh = token_hashes(self._store)
            for annotator_id in self._changed:  # changed while the query ran
                fresh.pop(annotator_id, None)
            self._hashes, self._loaded_at = fresh, started


def _listen_for_token_changes() -> None:
    """Once per process: a token changed through the ORM here is forgotten on commit."""
    global _listening
    with _LISTEN_LOCK:
        if not _listening:
            event.listen(Annotator.token_hash, "set", _note_change)
            event.listen(Session, "after_commit", _forget_committed)
            event.listen(Session, "after_soft_rollback", _drop_noted)
            _listening = True


def _forget(annotator_ids: set[str]) -> None:
    for check in list(_LIVE):
        for annotator_id in annotator_ids:
            check.forget(annotator_id)


def _note_change(target: Annotator, *_: Any) -> None:
    # forgotten now and again after the commit: a read between the two may cache the old hash
    _forget({target.annotator_id})
    session = object_session(target)
    if session is not None:
        session.info.setdefault(_CHANGED, set()).add(target.annotator_id)


def _forget_committed(session: Session) -> None:
    changed = session.info.pop(_CHANGED, None)
    if changed:
        _forget(changed)


def _drop_noted(session: Session, _previous: Any) -> None:
    session.info.pop(_CHANGED, None)

"""Per-process check that a session's login token is still current, with a short TTL."""

from __future__ import annotations

import hmac
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from sqlalchemy import event

from robopref.store import Store
from robopref.store.assigned import token_hash
from robopref.store.models import Annotator
from robopref.web.signing import token_tag

LOGIN_CHECK_TTL_S = 2.0
"""How long a process trusts a checked login: a token revoked or replaced by another
process (another worker, `robopref annotators`) stops working within this many seconds."""

_LIVE: weakref.WeakSet[LoginCheck] = weakref.WeakSet()
_LISTEN_LOCK = threading.Lock()
_listening = False


class LoginCheck:
    """Whether a session's login token is still the annotator's current one.

    A match is trusted for `ttl_s` seconds, so most requests read no database: a token
    revoked or replaced by another process therefore stops working within `ttl_s`. A token
    changed through the store in this process (the ORM sets `Annotator.token_hash`) ends
    its sessions at once. A miss or a mismatch always reads the store, so a fresh sign-in
    is never refused because of a stale entry.
    """

    def __init__(self, store: Store, secret: str, *, ttl_s: float = LOGIN_CHECK_TTL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """A check over `store`'s token hashes, tagged with `secret`."""
        self._store = store
        self._secret = secret
        self._ttl_s = ttl_s
        self._clock = clock
        self._checked: dict[str, tuple[str, float]] = {}
        _listen_for_token_changes()
        _LIVE.add(self)

    def is_current(self, annotator_id: str, tag: str) -> bool:
        """True when `tag` is the tag of the annotator's stored token hash."""
        now = self._clock()
        cached = self._checked.get(annotator_id)
        if cached is not None and now - cached[1] < self._ttl_s \
                and hmac.compare_digest(cached[0], tag):
            return True
        stored = token_hash(self._store, annotator_id)
        if stored is None:
            self._checked.pop(annotator_id, None)
            return False
        current = token_tag(self._secret, stored)
        self._checked[annotator_id] = (current, now)
        return hmac.compare_digest(current, tag)

    def forget(self, annotator_id: str) -> None:
        """Drop what is known of `annotator_id`: their next request reads the store."""
        self._checked.pop(annotator_id, None)


def _listen_for_token_changes() -> None:
    """Once per process: a token set through the ORM here is forgotten by every check."""
    global _listening
    with _LISTEN_LOCK:
        if not _listening:
            event.listen(Annotator.token_hash, "set", _forget_everywhere)
            _listening = True


def _forget_everywhere(target: Annotator, *_: Any) -> None:
    for check in list(_LIVE):
        check.forget(target.annotator_id)

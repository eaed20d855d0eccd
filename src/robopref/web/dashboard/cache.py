"""A per-process cache of dashboard results that expire after a few seconds."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request

T = TypeVar("T")

TTL_S = 5.0
"""How long a computed overview or plot is served before it is computed again."""

_CREATE = threading.Lock()


class TTLCache:
    """Values by key, recomputed once `ttl_s` has passed; one computation per key at a time."""

    def __init__(self, ttl_s: float = TTL_S) -> None:
        """An empty cache whose entries live `ttl_s` seconds."""
        self._ttl_s = ttl_s
        self._values: dict[str, tuple[float, Any]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: str, compute: Callable[[], T]) -> T:
        """The cached value of `key`, or `compute()`'s when absent or stale.

        Concurrent callers of a stale key wait for one computation instead of each running it.
        """
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            hit = self._values.get(key)
            if hit is not None and time.monotonic() - hit[0] < self._ttl_s:
                value: T = hit[1]
                return value
            value = compute()
            self._values[key] = (time.monotonic(), value)
            return value

    def clear(self) -> None:
        """Forget every value (after a write this process made, so the lead sees it at once)."""
        with self._guard:
            self._values.clear()


def dashboard_cache(request: Request) -> TTLCache:
    """The app's dashboard cache, created on first use."""
    state = request.app.state
    with _CREATE:
        if not hasattr(state, "dashboard_cache"):
            state.dashboard_cache = TTLCache()
    cache: TTLCache = state.dashboard_cache
    return cache

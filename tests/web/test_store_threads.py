"""Hot routes' store work: in the app's threads (shutdown waits), SQLite reads on the loop."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from starlette.datastructures import State

from robopref.store import Store
from robopref.web.store_threads import (
    close_store_threads,
    in_store_thread,
    open_store_threads,
    read_on_loop,
)

_T = TypeVar("_T")


def run_on_own_loop(main: Callable[[], Coroutine[Any, Any, _T]]) -> _T:
    """`asyncio.run(main())` on a fresh thread.

    The session-scoped Playwright fixture (tests/browser) leaves its event loop marked as
    running in the main thread of the pytest-xdist worker that ran the browser tests, where
    `asyncio.run` refuses to start another.
    """
    with ThreadPoolExecutor(1, thread_name_prefix="test-loop") as one:
        return one.submit(lambda: asyncio.run(main())).result()


def test_calls_run_in_the_store_threads_and_shutdown_waits_for_them() -> None:
    state = State()
    open_store_threads(state)
    finished: list[str] = []

    def slow(tag: str, *, pause_s: float) -> str:
        time.sleep(pause_s)
        finished.append(tag)
        return threading.current_thread().name

    async def calls() -> list[str]:
        return list(await asyncio.gather(*(in_store_thread(state, slow, t, pause_s=0.05)
                                           for t in ("a", "b"))))

    names = run_on_own_loop(calls)
    assert all(n.startswith("robopref-store") for n in names) and sorted(finished) == ["a", "b"]
    state.store_threads.submit(slow, "late", pause_s=0.2)
    close_store_threads(state)
    assert finished[-1] == "late"


def test_reads_run_on_the_loop_for_sqlite_only(store: Store) -> None:
    state = State()
    state.store = store
    open_store_threads(state)

    async def read() -> tuple[str, str]:
        here = threading.current_thread().name
        return here, await read_on_loop(state, lambda: threading.current_thread().name)

    loop_thread, ran_in = run_on_own_loop(read)
    close_store_threads(state)
    assert (ran_in == loop_thread) == store.is_sqlite
    assert store.is_sqlite or ran_in.startswith("robopref-store")

"""Hot routes' store work: in the app's threads (shutdown waits), SQLite reads on the loop."""

from __future__ import annotations

import asyncio
import threading
import time

from starlette.datastructures import State

from robopref.store import Store
from robopref.web.store_threads import (
    close_store_threads,
    in_store_thread,
    open_store_threads,
    read_on_loop,
)


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

    names = asyncio.run(calls())
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

    loop_thread, ran_in = asyncio.run(read())
    close_store_threads(state)
    assert (ran_in == loop_thread) == store.is_sqlite
    assert store.is_sqlite or ran_in.startswith("robopref-store")

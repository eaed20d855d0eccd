"""The hot routes' store work runs in the app's own threads, and shutdown waits for it."""

from __future__ import annotations

import asyncio
import threading
import time

from starlette.datastructures import State

from robopref.web.store_threads import close_store_threads, in_store_thread, open_store_threads


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

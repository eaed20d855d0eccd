"""Where the hot routes run their store work: the app's own threads, or the event loop.

A trip through `starlette.concurrency.run_in_threadpool` (anyio: a capacity limiter, a
cancel scope, a copied context) costs about twice the CPU of a plain executor's; POST
/api/submit makes one per answer (its commit waits for the disk). The store's functions
use no context variables, so they lose nothing here. GET /api/next only reads (showings
wait for the next commit, `store.shown`): on SQLite, whose WAL readers never wait for
writers, it runs on the event loop (`read_on_loop`), saving the trip and the hand-offs of
the interpreter lock between threads; PostgreSQL's reads wait on the network, so they
still go to the threads.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import ParamSpec, TypeVar

from starlette.datastructures import State

from robopref.store import Store

STORE_THREADS = 40
"""Most store calls of the hot routes at once (anyio's default thread limit)."""

_P = ParamSpec("_P")
_T = TypeVar("_T")


def open_store_threads(state: State) -> None:
    """Give the app its pool (`create_app`'s lifespan, at start-up)."""
    state.store_threads = ThreadPoolExecutor(STORE_THREADS, thread_name_prefix="robopref-store")


def close_store_threads(state: State) -> None:
    """Wait for the calls under way and stop the pool (at shutdown)."""
    executor: ThreadPoolExecutor = state.store_threads
    executor.shutdown(wait=True)


async def in_store_thread(state: State, call: Callable[_P, _T], *args: _P.args,
                          **kwargs: _P.kwargs) -> _T:
    """`call(*args, **kwargs)` in the app's pool, awaited on the event loop."""
    executor: ThreadPoolExecutor = state.store_threads
    bound: Callable[[], _T] = partial(call, *args, **kwargs)
    return await asyncio.get_running_loop().run_in_executor(executor, bound)


async def read_on_loop(state: State, call: Callable[_P, _T], *args: _P.args,
                       **kwargs: _P.kwargs) -> _T:
    """`call(*args, **kwargs)`, a read of the store.

    On the event loop for SQLite, else in the store threads (`in_store_thread`).
    """
    store: Store = state.store
    if store.is_sqlite:
        return call(*args, **kwargs)
    return await in_store_thread(state, call, *args, **kwargs)

"""PostgreSQL: bursts of concurrent requests reuse the pooled backends instead of opening new ones.

A connection opened for a burst and closed when it is returned costs a PostgreSQL backend
start (fork, authentication, catalog caches) on every burst; under the web app's load that
churn was most of the database's CPU per answer (`bench/serve_load.py`).
"""

from __future__ import annotations

import threading

import pytest

from robopref.store import Store


@pytest.mark.postgres
def test_bursts_of_concurrent_reads_reuse_the_same_backends(store: Store) -> None:
    if store.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite has no server backends")
    pids: set[int] = set()
    lock = threading.Lock()

    def read(barrier: threading.Barrier) -> None:
        with store.raw_read(snapshot=False) as connection:
            barrier.wait(timeout=10)  # every thread holds a connection at the same time
            (pid,) = connection.execute("SELECT pg_backend_pid()", ()).fetchone()
        with lock:
            pids.add(int(pid))

    for _ in range(4):
        barrier = threading.Barrier(10)
        threads = [threading.Thread(target=read, args=(barrier,)) for _ in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)
    assert len(pids) == 10, f"{len(pids)} backends served 4 bursts of 10 concurrent reads"

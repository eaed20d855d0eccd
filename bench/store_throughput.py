"""Annotation submission throughput (annotations/s) with N concurrent writer threads.

Runs the same workload on SQLite (WAL, a temp file) and PostgreSQL (a fresh schema at
127.0.0.1:5432, dropped afterwards; skipped with a note if unreachable) and prints one line
each. Every submission is its own transaction through `robopref.store.submit_annotation`.

    .venv/bin/python bench/store_throughput.py [--threads 8] [--per-thread 250]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd

from robopref.pairs.records import AssignmentSpec, PairBatch, PairSpec
from robopref.store import (
    Store,
    Submission,
    count_annotations,
    create_batch,
    open_store,
    sync_trajectories,
)
from robopref.types import BatchKind, Choice, PairKind, Stratum

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=3"


def build(store: Store, threads: int, per_thread: int) -> list[list[Submission]]:
    n = 60
    manifest = pd.DataFrame({
        "trajectory_id": [f"t{i:03d}" for i in range(n)], "task": "reach",
        "env_id": "bench-v0", "source": "expert", "quality_score": [float(i) for i in range(n)],
        "quartile": [1 + 4 * i // n for i in range(n)], "clip_path": None,
    })
    sync_trajectories(store, manifest)
    combos = [(a, b) for a in range(n) for b in range(a + 1, n)][:per_thread]
    pairs = tuple(
        PairSpec(pair_id=f"p{k:05d}", trajectory_a_id=f"t{a:03d}", trajectory_b_id=f"t{b:03d}",
                 task="reach", kind=PairKind.REGULAR, stratum=Stratum.SAME, quartile_a=1,
                 quartile_b=1)
        for k, (a, b) in enumerate(combos)
    )
    writers = [f"w{i}" for i in range(threads)]
    assignments = tuple(AssignmentSpec(pair_id=p.pair_id, annotator_id=w,
                                       left_trajectory_id=p.trajectory_a_id)
                        for w in writers for p in pairs)
    create_batch(store, PairBatch(batch_id="bench", kind=BatchKind.PRODUCTION, pairs=pairs,
                                  assignments=assignments))
    return [[Submission(annotator_id=w, pair_id=p.pair_id, preference=Choice.B, confidence=4,
                        response_time_ms=15_000, left_trajectory_id=p.trajectory_a_id,
                        idempotency_key=f"{w}-{p.pair_id}", interface_version="bench")
             for p in pairs] for w in writers]


def run(store: Store, threads: int, per_thread: int) -> float:
    from robopref.store import submit_annotation

    work = build(store, threads, per_thread)

    def write_all(items: list[Submission]) -> int:
        return sum(submit_annotation(store, s).created for s in items)

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        created = sum(pool.map(write_all, work))
    elapsed = time.perf_counter() - start
    assert created == count_annotations(store) == threads * len(work[0])
    return created / elapsed


def sqlite_line(threads: int, per_thread: int) -> str:
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(f"sqlite:///{Path(folder) / 'bench.db'}")
        rate = run(store, threads, per_thread)
        store.dispose()
    return f"store_throughput sqlite-wal: {rate:,.0f} annotations/s ({threads} writer threads)"


def postgres_line(threads: int, per_thread: int) -> str:
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f"CREATE SCHEMA {schema}")
    except psycopg.OperationalError as exc:
        return f"store_throughput postgresql: skipped ({exc})"
    try:
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
        store = open_store(url)
        rate = run(store, threads, per_thread)
        store.dispose()
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")
    return f"store_throughput postgresql: {rate:,.0f} annotations/s ({threads} writer threads)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--per-thread", type=int, default=250)
    args = parser.parse_args()
    print(sqlite_line(args.threads, args.per_thread))
    print(postgres_line(args.threads, args.per_thread))


if __name__ == "__main__":
    main()

"""Load on a real `robopref serve`: N simulated annotators answering through the JSON API.

Each annotator signs in, then loops over GET /api/next, one clip with `Range:
bytes=0-65535` (expects 206) and POST /api/submit, with `--think` seconds between answers.
Builds its own store and tiny rendered pool in a temp dir and talks to 127.0.0.1 only.
SQLite runs 1 worker; PostgreSQL (a fresh database on 127.0.0.1:5432, dropped afterwards)
runs `--workers`. Prints p50/p95/p99 latency of next-pair and submit, submissions/s,
errors, double assignments beyond the redundancy target and acknowledged submissions
missing from the database (both counted from the database afterwards), and a verdict
against issue 13's targets. `--chaos` SIGKILLs the server half-way and restarts it; clients
retry failed submits with the same idempotency key. `--profile OUT` (SQLite) writes a
cProfile of every server thread. Bounded: `--duration` seconds, a fixed queue each.

    .venv/bin/python bench/serve_load.py                       # 200 annotators, 2 s think
    .venv/bin/python bench/serve_load.py --think 0             # saturation
    .venv/bin/python bench/serve_load.py --backend sqlite --chaos
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import math
import os
import random
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from load_client import Stats, annotate, sign_in

SECRET = "bench-serve-load-secret-0123456789"
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3"
PROFILER = """import atexit, cProfile, pstats, runpy, sys, threading, time
out, clock, profiles = sys.argv.pop(1), sys.argv.pop(1), []
def start(*_):
    p = cProfile.Profile(time.thread_time if clock == "cpu" else time.perf_counter)
    profiles.append(p); p.enable()
def dump():
    for p in profiles: p.disable()
    pstats.Stats(*profiles).dump_stats(out)
threading.setprofile(start); atexit.register(dump); start()
sys.argv[0] = "robopref"; runpy.run_module("robopref", run_name="__main__")
"""


# --- the campaign: pool, store, annotators ------------------------------------------------


def build_campaign(folder: Path, url: str, *, annotators: int, per_annotator: int,
                   redundancy: int) -> tuple[Path, dict[str, str]]:
    """A rendered tiny pool and a store where each annotator has `per_annotator` pairs.

    Each pair goes to exactly `redundancy` annotators; every annotator is certified.
    Returns the pool folder and annotator id → login token.
    """
    import robopref.pool
    from robopref.pairs.records import AssignmentSpec, PairBatch, PairSpec
    from robopref.render import RenderConfig, render_pool
    from robopref.store import (
        add_annotator,
        create_batch,
        open_store,
        record_certification,
        sync_trajectories,
    )
    from robopref.testing import tiny_pool
    from robopref.types import BatchKind, PairKind, Stratum

    root = tiny_pool(folder / "pool", n=12).root
    render_pool(root, RenderConfig(workers=1, width=128, height=128, force_strip_height=24,
                                   font_size=10))
    manifest = robopref.pool.open(root).manifest
    ids, task = manifest["trajectory_id"].astype(str).tolist(), str(manifest["task"].iloc[0])
    combos = [(a, b) for i, a in enumerate(ids) for b in ids[i + 1:]]
    people = [f"ann-{i:04d}" for i in range(annotators)]
    rng = random.Random(0)
    pairs, assignments = [], []
    for k in range(annotators * per_annotator // redundancy):
        a, b = combos[k % len(combos)]
        pairs.append(PairSpec(pair_id=f"p{k:06d}", trajectory_a_id=a, trajectory_b_id=b,
                              task=task, kind=PairKind.REGULAR, stratum=Stratum.SAME,
                              quartile_a=1, quartile_b=1))
        assignments += [AssignmentSpec(pair_id=f"p{k:06d}", left_trajectory_id=rng.choice((a, b)),
                                       annotator_id=people[(k * redundancy + j) % annotators])
                        for j in range(redundancy)]
    store = open_store(url)
    sync_trajectories(store, manifest)
    create_batch(store, PairBatch(batch_id="calibration", kind=BatchKind.CALIBRATION,
                                  pairs=(replace(pairs[0], pair_id="cal-0"),), assignments=()))
    create_batch(store, PairBatch(batch_id="load", kind=BatchKind.PRODUCTION,
                                  pairs=tuple(pairs), assignments=tuple(assignments)))
    tokens = {}
    for person in people:
        tokens[person] = add_annotator(store, person)
        record_certification(store, annotator_id=person, calibration_batch_id="calibration",
                             kappa=1.0, passed=True)
    store.dispose()
    return root, tokens


@contextmanager
def postgres_database(settings: tuple[str, ...] = ()) -> Iterator[str]:
    """A fresh PostgreSQL database for one run (dropped afterwards); yields its URL.

    `settings` (`NAME=VALUE`) become the database's defaults (`ALTER DATABASE … SET`),
    for A/B runs of server settings such as `commit_delay` (some need a superuser).
    """
    import psycopg
    from psycopg import sql

    name = f"robopref_load_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
        for setting in settings:
            key, value = setting.split("=", 1)
            admin.execute(sql.SQL("ALTER DATABASE {} SET {} = {}").format(
                sql.Identifier(name), sql.Identifier(key.strip()), sql.Literal(value.strip())))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE {name} WITH (FORCE)")


# --- the server process -----------------------------------------------------------------


@dataclass
class Server:
    """A `robopref serve` process group on 127.0.0.1."""

    url: str
    pool: Path
    workers: int
    log: Path
    profile: Path | None = None
    profile_clock: str = "wall"
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    cpu_s: float = 0.0
    pg_cpu: PostgresCpu | None = None
    """CPU of the PostgreSQL backends serving this database (None until `start`)."""
    _cpu_from: float = 0.0

    def start(self) -> None:
        """Start the server (its own session, so the whole group can be signalled)."""
        if not self.port:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                self.port = probe.getsockname()[1]
        verb = ["serve", "--db", self.url, "--pool", str(self.pool), "--port", str(self.port),
                "--workers", str(self.workers)]
        profiled = [sys.executable, "-c", PROFILER, str(self.profile), self.profile_clock]
        command = ([*profiled, *verb] if self.profile
                   else [str(Path(sys.executable).with_name("robopref")), *verb])
        env = os.environ | {"ROBOPREF_SECRET": SECRET}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=log, env=env,
                                            start_new_session=True)
        self._wait_ready()

    def count_cpu_from_now(self) -> None:
        """Leave start-up and sign-in out of `cpu_s`."""
        assert self.process is not None
        self._cpu_from = group_cpu_s(self.process.pid)
        if self.pg_cpu is None:
            self.pg_cpu = PostgresCpu(self.url)
        self.pg_cpu.start()

    def _wait_ready(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: see {self.log}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"GET /api/session HTTP/1.1\r\nHost: x\r\n\r\n")
                    if s.recv(12).startswith(b"HTTP/1.1 401"):
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"server not ready after {timeout_s} s: see {self.log}")

    def stop(self, sig: int = signal.SIGINT) -> None:
        """Signal the whole group (SIGINT: a clean stop; SIGKILL for chaos) and wait.

        Records the CPU seconds the group used.
        """
        if self.process is None:
            return
        self.cpu_s += group_cpu_s(self.process.pid) - self._cpu_from
        self._cpu_from = 0.0
        if self.pg_cpu is not None:
            self.pg_cpu.stop()
        os.killpg(self.process.pid, sig)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None


def group_cpu_s(session_id: int) -> float:
    """CPU seconds (user + system) of the live processes in one session."""
    tick, total = os.sysconf("SC_CLK_TCK"), 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session_id:  # fields after the name: state ppid pgrp session …
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def postgres_backends_cpu_s(url: str) -> dict[int, float]:
    """CPU seconds (user + system) of each live PostgreSQL backend connected to `url`'s database.

    Empty for SQLite. Backends are found by their process title (`postgres: [CLUSTER:]
    USER DB HOST …`); the shared WAL writer and checkpointer are not counted.
    """
    if not url.startswith("postgresql"):
        return {}
    database = url.rsplit("/", 1)[1].split("?", 1)[0]
    tick, found = os.sysconf("SC_CLK_TCK"), {}
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            title = cmdline.read_bytes().split(b"\0", 1)[0].decode(errors="replace").split()
            if not title or title[0] != "postgres:" or database not in title[1:4]:
                continue
            fields = cmdline.with_name("stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[int(cmdline.parent.name)] = (int(fields[11]) + int(fields[12])) / tick
    return found


def postgres_cpu_s(url: str) -> float:
    """CPU seconds of the live backends of `url`'s database (0 for SQLite)."""
    return sum(postgres_backends_cpu_s(url).values())


class PostgresCpu:
    """CPU the backends of one database use from `start` to `stop`, sampled every 0.2 s.

    Sampling keeps the CPU of backends that exit before the end (a pool's overflow
    connections, closed when returned) up to their last sample.
    """

    def __init__(self, url: str) -> None:
        """Nothing measured yet (0 s for SQLite)."""
        self.url, self.seconds = url, 0.0
        self._first: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Take the baseline and start sampling."""
        if not self.url.startswith("postgresql"):
            return
        self._first = postgres_backends_cpu_s(self.url)
        self._last = dict(self._first)
        self._done.clear()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """One last sample; add what the backends used since `start` to `seconds`."""
        if self._thread is None:
            return
        self._done.set()
        self._thread.join()
        self._thread = None
        self._last.update(postgres_backends_cpu_s(self.url))
        self.seconds += sum(cpu - self._first.get(pid, 0.0) for pid, cpu in self._last.items())

    def _sample(self) -> None:
        while not self._done.wait(0.2):
            self._last.update(postgres_backends_cpu_s(self.url))


async def drive(server: Server, tokens: dict[str, str], *, think_s: float, duration_s: float,
                chaos: bool) -> tuple[Stats, float]:
    """Sign everyone in and run the loops for `duration_s`; (stats, seconds measured).

    With `chaos` the server is SIGKILLed half-way and restarted.
    """
    signed = await sign_in(server.port, tokens)
    # The client is the measuring instrument: what it built (the campaign, SQLAlchemy,
    # numpy) would be walked by each of its full collections, pausing every request's
    # clock at once. Frozen, as the server freezes what its start-up built.
    gc.collect()
    gc.freeze()
    CLIENT_GC.longest_ms, CLIENT_GC.full = 0.0, 0
    server.count_cpu_from_now()
    stats = Stats()
    start = time.monotonic()
    deadline = start + duration_s
    loops = [asyncio.create_task(annotate(p, c, csrf, stats, think_s=think_s, deadline=deadline))
             for p, (c, csrf) in signed.items()]
    if chaos:
        await asyncio.sleep(duration_s / 2)
        while stats.submitting == 0 and time.monotonic() < deadline:  # kill mid-submit
            await asyncio.sleep(0.001)
        server.stop(signal.SIGKILL)
        await asyncio.to_thread(server.start)
    await asyncio.gather(*loops)
    for conn, _ in signed.values():
        conn.close()
    return stats, time.monotonic() - start


class GcPauses:
    """The load client's own garbage-collection pauses (they stall every request's clock)."""

    def __init__(self) -> None:
        """Start recording (`gc.callbacks`)."""
        self.longest_ms = 0.0
        self.full = 0
        self._started = 0.0
        gc.callbacks.append(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        self.longest_ms = max(self.longest_ms, 1000 * (time.perf_counter() - self._started))
        self.full += info["generation"] == 2


CLIENT_GC = GcPauses()


# --- checks against the database and the report ------------------------------------------


@dataclass(frozen=True)
class Audit:
    """What the database holds after a run."""

    rows: int
    lost: int
    double: int
    retried_not_once: int


def audit(url: str, stats: Stats, redundancy: int) -> Audit:
    """Count acknowledged answers missing, doubles and retried answers not stored once."""
    from sqlalchemy import select

    from robopref.store import open_store
    from robopref.store.models import Annotation

    store = open_store(url, upgrade=False)
    with store.read() as session:
        rows = session.execute(select(Annotation.annotator_id, Annotation.idempotency_key,
                                      Annotation.pair_id)).all()
    store.dispose()
    keys = Counter((a, k) for a, k, _ in rows)
    per_pair: dict[str, set[str]] = {}
    for annotator, _, pair in rows:
        per_pair.setdefault(pair, set()).add(annotator)
    twice = len(rows) - len({(a, p) for a, _, p in rows})
    beyond = sum(max(0, len(who) - redundancy) for who in per_pair.values())
    return Audit(rows=len(rows), lost=len(stats.acked - set(keys)), double=twice + beyond,
                 retried_not_once=sum(keys[k] != 1 for k in stats.retried))


def percentiles(values: list[float]) -> str:
    """p50 / p95 / p99 in ms."""
    if not values:
        return "      –"
    p50, p95, p99 = np.percentile(values, [50, 95, 99])
    return f"{p50:6.1f} / {p95:6.1f} / {p99:6.1f}"


def run_one(backend: str, url: str, args: argparse.Namespace, folder: Path) -> None:
    """Build, serve, drive, audit and print one backend's line and verdict."""
    rate = 1 / args.think if args.think > 0 else 600 / args.annotators  # answers/s each, at most
    per = args.per_annotator or math.ceil(args.duration * rate) + 5
    per = math.ceil(per / args.redundancy) * args.redundancy  # every pair gets its full count
    pool, tokens = build_campaign(folder, url, annotators=args.annotators, per_annotator=per,
                                  redundancy=args.redundancy)
    workers = 1 if backend == "sqlite" else args.workers
    server = Server(url, pool, workers, folder / "server.log",
                    args.profile if backend == "sqlite" else None, args.profile_clock)
    server.start()
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    try:
        stats, elapsed = asyncio.run(drive(server, tokens, think_s=args.think,
                                           duration_s=args.duration, chaos=args.chaos))
    finally:
        server.stop()
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    client_cpu_s = cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime
    report(f"{backend:<10} {workers:>2}", args, stats, audit(url, stats, args.redundancy),
           elapsed_s=elapsed, cpu_s=(server.cpu_s, client_cpu_s),
           pg_cpu_s=0.0 if server.pg_cpu is None else server.pg_cpu.seconds)


def report(label: str, args: argparse.Namespace, stats: Stats, found: Audit, *,
           elapsed_s: float, cpu_s: tuple[float, float], pg_cpu_s: float = 0.0) -> None:
    """Print one run's table row, its details and the verdict."""
    rate = len(stats.acked) / elapsed_s
    lat = stats.latency_ms
    print(f"{label}  {args.annotators:>4} {args.think:>5.1f}  "
          f"{percentiles(lat['next'])}  {percentiles(lat['submit'])}  {rate:8.1f}  "
          f"{sum(stats.errors.values()):>6}  {found.double:>6}  {found.lost:>4}  "
          f"{cpu_s[0] / elapsed_s:4.2f}/{cpu_s[1] / elapsed_s:4.2f}")
    detail = ", ".join(f"{k} {v}" for k, v in sorted(stats.errors.items())) or "none"
    print(f"           errors: {detail}; clip p50/p95/p99 {percentiles(lat['clip'])} ms; "
          f"server CPU {1000 * cpu_s[0] / max(1, len(stats.acked)):.1f} ms per answer"
          + (f" (+ PostgreSQL {1000 * pg_cpu_s / max(1, len(stats.acked)):.1f} ms)"
             if pg_cpu_s else "") + "; "
          f"{found.rows} rows; {stats.finished_queues} queues finished early; "
          f"{stats.unacknowledged} answers never acknowledged; client GC: longest pause "
          f"{CLIENT_GC.longest_ms:.1f} ms, {CLIENT_GC.full} full collections"
          + (f"; chaos: {len(stats.retried)} submits retried, {found.retried_not_once} "
             "not stored exactly once" if args.chaos else ""))
    print(f"           verdict: {verdict(args, stats, found, rate)}")


def verdict(args: argparse.Namespace, stats: Stats, found: Audit, rate: float) -> str:
    """The run against issue 13's targets."""
    misses = [f"{found.lost} lost"] if found.lost else []
    misses += [f"{found.double} double"] if found.double else []
    if found.retried_not_once:
        misses.append(f"{found.retried_not_once} retried not stored once")
    if stats.unacknowledged:
        misses.append(f"{stats.unacknowledged} never acknowledged")
    if args.chaos:
        target = "0 lost, 0 double, retried stored once"
    elif args.think > 0:
        target = "p99 < 50 ms, 0 errors, 0 lost, 0 double"
        worst = max(np.percentile(stats.latency_ms[k] or [math.inf], 99)
                    for k in ("next", "submit"))
        misses += [f"p99 {worst:.1f} ms"] if worst >= 50 else []
        misses += [f"{sum(stats.errors.values())} errors"] if stats.errors else []
    else:
        target = "≥ 250 submissions/s, 0 lost, 0 double"
        misses += [f"{rate:.0f} submissions/s"] if rate < 250 else []
    return f"{'MEETS' if not misses else 'MISSES'} target ({target})" + (
        f": {', '.join(misses)}" if misses else "")


def main() -> None:
    """Parse the options and run each backend."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--annotators", type=int, default=200)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load")
    parser.add_argument("--think", type=float, default=2.0, help="seconds between answers")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers (PostgreSQL)")
    parser.add_argument("--redundancy", type=int, default=3, help="annotators per pair")
    parser.add_argument("--per-annotator", type=int, default=0, help="queue length (0: auto)")
    parser.add_argument("--chaos", action="store_true", help="SIGKILL + restart half-way")
    parser.add_argument("--pg-setting", action="append", default=[], metavar="NAME=VALUE",
                        help="PostgreSQL setting for the run's database (repeatable)")
    parser.add_argument("--profile", type=Path, help="cProfile of the SQLite server to OUT")
    parser.add_argument("--profile-clock", choices=("wall", "cpu"), default="wall",
                        help="profile wall time (waits show) or each thread's CPU time")
    args = parser.parse_args()
    if not 2 <= args.redundancy <= args.annotators:
        parser.error("--redundancy must be between 2 and --annotators")
    print("backend    wk  ann. think  next p50/p95/p99 ms    submit p50/p95/p99 ms  "
          "submit/s  errors  double  lost  cpu srv/cli")
    for backend in ("sqlite", "postgres") if args.backend == "both" else (args.backend,):
        with tempfile.TemporaryDirectory(prefix="serve-load-") as folder:
            if backend == "sqlite":
                run_one(backend, f"sqlite:///{Path(folder) / 'load.db'}", args, Path(folder))
            else:
                with postgres_database(tuple(args.pg_setting)) as url:
                    run_one(backend, url, args, Path(folder))


if __name__ == "__main__":
    main()

"""Server CPU per request of a real `robopref serve`, one annotator, one request at a time.

The figure that decides how many annotators one worker carries, and robust to other load
on the machine (CPU time of the server's process group, not wall time): GET /api/session
(the framework's floor: cookie, login check, JSON), then `--cycles` rounds of GET /api/next,
the left clip with `Range: bytes=0-65535`, and POST /api/submit. Same campaign and server
as bench/serve_load.py; SQLite (or `--backend postgres`: a fresh database on
127.0.0.1:5432, dropped afterwards; the CPU of its backends is shown beside the server's),
1 worker, loopback only.

    .venv/bin/python bench/serve_cost.py [--cycles 500] [--backend postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections.abc import Awaitable
from pathlib import Path

from load_client import Connection
from serve_load import Server, build_campaign, group_cpu_s, postgres_cpu_s, postgres_database


async def measure(server: Server, token: str,
                  cycles: int) -> tuple[dict[str, float], dict[str, float]]:
    """Server and PostgreSQL CPU ms per request: the floor, then next / clip / submit."""
    assert server.process is not None
    pid, conn = server.process.pid, Connection(server.port, "ann-0000")
    _, body = await conn.request("POST", "/api/session", body={"token": token})
    csrf = json.loads(body)["csrf_token"]
    spent = {"session (floor)": 0.0, "next": 0.0, "clip": 0.0, "submit": 0.0}
    in_pg = dict.fromkeys(spent, 0.0)

    async def timed(what: str, request: Awaitable[tuple[int, bytes]], expect: int) -> bytes:
        before, pg_before = group_cpu_s(pid), postgres_cpu_s(server.url)  # starts when awaited
        status, reply = await request
        spent[what] += group_cpu_s(pid) - before
        in_pg[what] += postgres_cpu_s(server.url) - pg_before
        if status != expect:
            raise RuntimeError(f"{what}: HTTP {status} {reply[:200]!r}")
        return reply

    for _ in range(cycles):
        await timed("session (floor)", conn.request("GET", "/api/session"), 200)
    for n in range(cycles):
        item = json.loads(await timed("next", conn.request("GET", "/api/next"),
                                      200))["assignment"]
        await timed("clip", conn.request("GET", item["left"]["clip_url"],
                                         headers={"Range": "bytes=0-65535"}), 206)
        answer = {"assignment_id": item["assignment_id"], "idempotency_key": f"k{n}",
                  "choice": "left", "confidence": 3, "response_time_ms": 4000}
        await timed("submit", conn.request("POST", "/api/submit", body=answer,
                                           headers={"X-CSRF-Token": csrf}), 200)
    conn.close()
    return ({what: 1000 * seconds / cycles for what, seconds in spent.items()},
            {what: 1000 * seconds / cycles for what, seconds in in_pg.items()})


def main() -> None:
    """Build the campaign, serve it, measure, print one line per request kind."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=500)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="serve-cost-") as name:
        folder = Path(name)
        if args.backend == "sqlite":
            (costs, pg_costs), elapsed = serve_and_measure(
                folder, f"sqlite:///{folder / 'cost.db'}", args.cycles)
        else:
            with postgres_database() as url:
                (costs, pg_costs), elapsed = serve_and_measure(folder, url, args.cycles)
    postgres = args.backend == "postgres"
    for what, ms in costs.items():
        print(f"serve_cost {what:<16} {ms:5.2f} ms server CPU per request"
              + (f" (+ {pg_costs[what]:5.2f} ms PostgreSQL)" if postgres else ""))
    cycle = costs["next"] + costs["clip"] + costs["submit"]
    pg_cycle = pg_costs["next"] + pg_costs["clip"] + pg_costs["submit"]
    print(f"serve_cost cycle (next+clip+submit) {cycle:5.2f} ms: one worker core carries at most "
          f"{1000 / cycle:.0f} answers/s ({args.backend}, {args.cycles} cycles, {elapsed:.1f} s)"
          + (f"; PostgreSQL {pg_cycle:5.2f} ms per cycle" if postgres else ""))


def serve_and_measure(folder: Path, url: str,
                      cycles: int) -> tuple[tuple[dict[str, float], dict[str, float]], float]:
    """Build the campaign at `url`, serve it with one worker.

    Returns ((server ms, PostgreSQL ms) per request, seconds).
    """
    pool, tokens = build_campaign(folder, url, annotators=3, per_annotator=cycles + 3,
                                  redundancy=3)
    server = Server(url, pool, 1, folder / "server.log")
    server.start()
    try:
        start = time.perf_counter()
        costs = asyncio.run(measure(server, tokens["ann-0000"], cycles))
        return costs, time.perf_counter() - start
    finally:
        server.stop()


if __name__ == "__main__":
    main()

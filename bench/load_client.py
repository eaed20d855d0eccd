"""The simulated annotators of bench/serve_load.py: a light asyncio HTTP/1.1 client.

One keep-alive connection per annotator, no HTTP library: the client shares the machine's
two cores with the server it measures, so it must cost little (about 1 % of a core for
200 annotators answering every 2 s).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from dataclasses import dataclass, field

TIMEOUT_S = 10.0
"""A request that takes longer counts as a transport error."""
RETRY_S = 0.05
"""First pause before a retry (growing to 10x for a submit that keeps failing)."""
GRACE_S = 30.0
"""How long past the deadline a failed submit is still retried (a restarting server)."""


class Connection:
    """One keep-alive HTTP/1.1 connection with the annotator's cookie."""

    def __init__(self, port: int, annotator_id: str) -> None:
        """A connection (opened on first use) for `annotator_id`."""
        self.port, self.annotator_id, self.cookie = port, annotator_id, ""
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def request(self, method: str, path: str, body: object = None,
                      headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        """Send one request; (status, body). Raises OSError / TimeoutError on failure."""
        try:
            return await asyncio.wait_for(self._exchange(method, path, body, headers or {}),
                                          TIMEOUT_S)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
            self.close()
            raise ConnectionError(f"{method} {path} failed") from None

    async def _exchange(self, method: str, path: str, body: object,
                        headers: dict[str, str]) -> tuple[int, bytes]:
        if self._streams is None:
            self._streams = await asyncio.open_connection("127.0.0.1", self.port)
        reader, writer = self._streams
        data = b"" if body is None else json.dumps(body).encode()
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}",
                 f"Content-Length: {len(data)}", "Content-Type: application/json"]
        lines += [f"Cookie: robopref_session={self.cookie}"] if self.cookie else []
        lines += [f"{k}: {v}" for k, v in headers.items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + data)
        status_line = await reader.readline()
        if not status_line:
            raise OSError("connection closed")
        found: dict[str, str] = {}
        while (line := await reader.readline()) not in (b"\r\n", b""):
            key, value = line.decode("latin-1").split(":", 1)
            found[key.strip().lower()] = value.strip()
        if "set-cookie" in found and found["set-cookie"].startswith("robopref_session="):
            self.cookie = found["set-cookie"].split(";", 1)[0].split("=", 1)[1]
        reply = await reader.readexactly(int(found.get("content-length", "0")))
        if found.get("connection", "").lower() == "close":
            self.close()
        return int(status_line.split()[1]), reply

    def close(self) -> None:
        """Drop the connection (the next request opens a new one)."""
        if self._streams is not None:
            self._streams[1].close()
            self._streams = None


@dataclass
class Stats:
    """What the annotators measured."""

    latency_ms: dict[str, list[float]] = field(
        default_factory=lambda: {"next": [], "clip": [], "submit": []})
    errors: dict[str, int] = field(default_factory=dict)
    acked: set[tuple[str, str]] = field(default_factory=set)
    retried: set[tuple[str, str]] = field(default_factory=set)
    finished_queues: int = 0
    submitting: int = 0
    """Submits in flight now."""
    unacknowledged: int = 0
    """Submits still failing `GRACE_S` after the deadline (never acknowledged)."""

    def error(self, what: str) -> None:
        """Count one failed request (transport failure or unexpected status)."""
        self.errors[what] = self.errors.get(what, 0) + 1


async def timed(stats: Stats, what: str, conn: Connection, method: str, path: str, *,
                expect: int, body: object = None,
                headers: dict[str, str] | None = None) -> bytes | None:
    """One request, its latency recorded when it answers `expect`; None (counted) otherwise."""
    start = time.perf_counter()
    try:
        status, reply = await conn.request(method, path, body, headers)
    except ConnectionError:
        stats.error(f"{what}: transport")
        return None
    if status != expect:
        stats.error(f"{what}: HTTP {status}")
        return None
    stats.latency_ms[what].append((time.perf_counter() - start) * 1000)
    return reply


async def annotate(person: str, conn: Connection, csrf: str, stats: Stats, *,
                   think_s: float, deadline: float) -> None:
    """One annotator's loop until the deadline or the end of their queue."""
    rng = random.Random(person)
    await asyncio.sleep(rng.uniform(0, think_s))
    answered = 0
    while time.monotonic() < deadline:
        body = await timed(stats, "next", conn, "GET", "/api/next", expect=200)
        if body is None:
            await asyncio.sleep(RETRY_S)
            continue
        item = json.loads(body)["assignment"]
        if item is None:
            stats.finished_queues += 1
            return
        await timed(stats, "clip", conn, "GET", item["left"]["clip_url"], expect=206,
                    headers={"Range": "bytes=0-65535"})
        key = f"{person}-{answered}"
        answer = {"assignment_id": item["assignment_id"], "idempotency_key": key,
                  "choice": rng.choice(("left", "right", "equal")),
                  "confidence": rng.randint(1, 5), "response_time_ms": rng.randint(3000, 30000)}
        if not await submit(stats, conn, csrf, answer, deadline=deadline + GRACE_S):
            stats.unacknowledged += 1
            return
        answered += 1
        await asyncio.sleep(think_s)


async def submit(stats: Stats, conn: Connection, csrf: str, answer: dict[str, object], *,
                 deadline: float) -> bool:
    """POST one answer until acknowledged, always with the same idempotency key."""
    who = (conn.annotator_id, str(answer["idempotency_key"]))
    attempt = 0
    while time.monotonic() < deadline:
        stats.submitting += 1
        try:
            reply = await timed(stats, "submit", conn, "POST", "/api/submit", expect=200,
                                body=answer, headers={"X-CSRF-Token": csrf})
        finally:
            stats.submitting -= 1
        if reply is not None:
            stats.acked.add(who)
            return True
        stats.retried.add(who)
        attempt += 1
        await asyncio.sleep(RETRY_S * min(attempt, 10))
    return False


async def sign_in(port: int, tokens: dict[str, str]) -> dict[str, tuple[Connection, str]]:
    """Every annotator's connection (cookie set) and CSRF token."""
    gate, signed = asyncio.Semaphore(20), {}

    async def one(person: str, token: str) -> None:
        async with gate:
            conn = Connection(port, person)
            status, body = await conn.request("POST", "/api/session", body={"token": token})
            if status != 200:
                raise RuntimeError(f"sign-in of {person}: HTTP {status} {body[:200]!r}")
            signed[person] = (conn, json.loads(body)["csrf_token"])

    await asyncio.gather(*(one(p, t) for p, t in tokens.items()))
    return signed



"""The hot routes' own answers equal the FastAPI routes' byte for byte, headers included."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from robopref.web import Settings, create_app
from robopref.web.clip_index import ClipIndex
from robopref.web.deps import CSRF_HEADER
from robopref.web.hot_routes import HotRoutes

from .conftest import SECRET, Campaign

pytestmark = pytest.mark.usefixtures("certified")

HOT_PATHS = {"/api/next", "/api/submit", "/clips/{clip_id}.mp4"}


def _app(campaign: Campaign, *, hot: bool) -> FastAPI:
    app = create_app(Settings(db_url=campaign.store.url, pool=campaign.pool,  # type: ignore[arg-type]
                              secret=SECRET))
    if not hot:  # the FastAPI routes answer everything, as before the hot routes
        app.user_middleware = [m for m in app.user_middleware if m.cls is not HotRoutes]
    return app


@pytest.fixture
def clients(campaign: Campaign) -> Iterator[tuple[TestClient, TestClient]]:
    """(hot, plain): the app with `HotRoutes` and without, on the same store."""
    with TestClient(_app(campaign, hot=True)) as hot, \
            TestClient(_app(campaign, hot=False)) as plain:
        yield hot, plain


def _signed_in(client: TestClient, campaign: Campaign, who: str) -> dict[str, str]:
    reply = client.post("/api/session", json={"token": campaign.tokens[who]})
    assert reply.status_code == 200
    return {CSRF_HEADER: reply.json()["csrf_token"]}


def _reply(response: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers in order and bytes; a multipart reply's random boundary made fixed."""
    headers, content = response.headers.multi_items(), response.content
    boundary = response.headers.get("content-type", "").partition("boundary=")[2]
    if boundary:
        headers = [(k, v.replace(boundary, "B")) for k, v in headers]
        content = content.replace(boundary.encode(), b"B")
    return response.status_code, headers, content


def _same(hot: TestClient, plain: TestClient, method: str, url: str, **kwargs: Any) -> int:
    """Send one request to both apps; assert equal status, headers (in order) and bytes."""
    ours, theirs = (_reply(c.request(method, url, **kwargs)) for c in (hot, plain))
    assert ours == theirs, url
    return ours[0]


def test_next_and_clip_replies_are_the_routes_own(
        clients: tuple[TestClient, TestClient], campaign: Campaign) -> None:
    hot, plain = clients
    assert _same(hot, plain, "GET", "/api/next") == 401  # no session yet
    for client in clients:
        _signed_in(client, campaign, "ann-1")
    assert _same(hot, plain, "GET", "/api/next") == 200
    item = hot.get("/api/next").json()["assignment"]
    url = item["left"]["clip_url"]
    for headers, status in (({"Range": "bytes=0-65535"}, 206), ({}, 200),
                            ({"Range": "bytes=10-5"}, 416), ({"Range": "pages=1"}, 416),
                            ({"Range": "bytes=0-9,20-29"}, 206)):
        assert _same(hot, plain, "GET", url, headers=headers) == status
    index = ClipIndex(campaign.store, campaign.pool)
    theirs = {a.pair_id for a in campaign.batch.assignments if a.annotator_id == "ann-1"}
    held = {t for p in campaign.batch.pairs if p.pair_id in theirs
            for t in (p.trajectory_a_id, p.trajectory_b_id)}
    other = next(str(t) for t in campaign.manifest.trajectory_id if t not in held)
    assert _same(hot, plain, "GET", f"/clips/{index.display_id(other)}.mp4") == 404
    for path in ("/clips/0123456789abcdef01234567.mp4", "/clips/../x.mp4", "/clips/a/b.mp4"):
        _same(hot, plain, "GET", path)
    _same(hot, plain, "HEAD", url)  # not a hot route: FastAPI answers both


def test_submit_replies_are_the_routes_own(
        clients: tuple[TestClient, TestClient], campaign: Campaign) -> None:
    hot, plain = clients
    csrf = (_signed_in(hot, campaign, "ann-1"), _signed_in(plain, campaign, "ann-2"))
    assignment_id = hot.get("/api/next").json()["assignment"]["assignment_id"]
    assert plain.get("/api/next").json()["assignment"]["assignment_id"] == assignment_id
    answer = {"assignment_id": assignment_id, "choice": "left", "confidence": 3,
              "response_time_ms": 4000, "idempotency_key": "k1"}

    def same(body: Any = None, *, raw: bytes | None = None, media_type: str = "",
             csrf_ok: bool = True) -> tuple[int, bytes]:
        replies = []
        for client, token in zip(clients, csrf, strict=True):
            headers = dict(token) if csrf_ok else {}
            if raw is None:
                replies.append(client.post("/api/submit", json=body, headers=headers))
            else:
                headers["Content-Type"] = media_type
                replies.append(client.post("/api/submit", content=raw, headers=headers))
        ours, theirs = (_reply(r) for r in replies)
        assert ours == theirs
        return ours[0], ours[2]

    assert same(answer, csrf_ok=False)[0] == 403
    assert same({**answer, "confidence": 9})[0] == 422
    assert same({**answer, "assignment_id": "0" * 24})[0] == 403
    assert same(raw=b"{not json", media_type="application/json")[0] == 422
    assert same(raw=b"", media_type="application/json")[0] == 422
    assert same(raw=b'{"a": 1}', media_type="text/plain")[0] == 422
    assert same(answer) == (200, b'{"created":true,"calibration_complete":false}')  # each once
    assert same(answer) == (200, b'{"created":false,"calibration_complete":false}')  # retried
    assert same({**answer, "idempotency_key": "k2"})[0] == 409
    for client in clients:
        client.cookies.clear()
    assert same(answer)[0] == 401


def test_the_hot_routes_answer_without_the_fastapi_routes(campaign: Campaign) -> None:
    app = _app(campaign, hot=True)
    app.router.routes = [r for r in app.router.routes if getattr(r, "path", "") not in HOT_PATHS]
    with TestClient(app) as client:
        csrf = _signed_in(client, campaign, "ann-1")
        item = client.get("/api/next").json()["assignment"]
        assert client.get(item["left"]["clip_url"],
                          headers={"Range": "bytes=0-99"}).status_code == 206
        answer = {"assignment_id": item["assignment_id"], "choice": "equal", "confidence": 2,
                  "response_time_ms": 3000, "idempotency_key": "k"}
        assert client.post("/api/submit", json=answer, headers=csrf).json() == {
            "created": True, "calibration_complete": False}

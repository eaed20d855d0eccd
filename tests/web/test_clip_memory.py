"""Clips answered from memory reply exactly as the same file streamed from disk."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route
from starlette.testclient import TestClient

from robopref.web.clip_index import ClipFile
from robopref.web.routes.clips import ClipResponse


@pytest.fixture
def both(tmp_path: Path) -> TestClient:
    """`/memory` serves the clip from its bytes, `/disk` the same clip from the file."""
    video = tmp_path / "clip.mp4"
    video.write_bytes(os.urandom(150_000))
    found, data = video.stat(), video.read_bytes()
    headers = {"Cache-Control": "private, max-age=3600"}

    def memory(request: Request) -> ClipResponse:
        return ClipResponse(ClipFile(video, found, data), headers=headers)

    def disk(request: Request) -> ClipResponse:
        return ClipResponse(ClipFile(video, found, None), headers=headers)

    return TestClient(Starlette(routes=[Route("/memory", memory, methods=["GET", "HEAD"]),
                                        Route("/disk", disk, methods=["GET", "HEAD"])]))


RANGES = [None, "bytes=0-", "bytes=10-99", "bytes=-16", "bytes=5-", "bytes=0-0,5-9",
          "bytes=abc", "bytes=999999-", "bytes=0-999999", "items=1-2"]


@pytest.mark.parametrize("method", ["GET", "HEAD"])
@pytest.mark.parametrize("http_range", RANGES)
def test_memory_and_disk_replies_are_the_same(both: TestClient, method: str,
                                              http_range: str | None) -> None:
    headers = {} if http_range is None else {"Range": http_range}
    memory = both.request(method, "/memory", headers=headers)
    disk = both.request(method, "/disk", headers=headers)
    assert memory.status_code == disk.status_code
    if "multipart" in disk.headers.get("content-type", ""):  # a random boundary each time
        assert "multipart/byteranges" in memory.headers["content-type"]
        return
    assert dict(memory.headers) == dict(disk.headers)
    assert memory.content == disk.content


@pytest.mark.parametrize("matches", [True, False])
def test_if_range_is_honoured_from_memory(both: TestClient, matches: bool) -> None:
    etag = both.get("/disk").headers["etag"] if matches else '"stale"'
    reply = both.get("/memory", headers={"Range": "bytes=10-99", "If-Range": etag})
    assert reply.status_code == (206 if matches else 200)
    assert reply.content == both.get("/disk", headers={"Range": "bytes=10-99",
                                                       "If-Range": etag}).content

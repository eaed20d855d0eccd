"""Review clips by opaque display id, with HTTP range requests (206, 416)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import MalformedRangeHeader, RangeNotSatisfiable
from starlette.types import Receive, Scope, Send

from robopref.store import Role
from robopref.web.clip_access import ClipAccess
from robopref.web.clip_index import ClipFile, ClipIndex
from robopref.web.deps import SessionDep
from robopref.web.signing import SessionData

router = APIRouter(tags=["clips"])

_DISPLAY_ID = re.compile(r"[0-9a-f]{24}")


class ClipResponse(FileResponse):
    """A FileResponse for clips: a malformed `Range` is 416, and small clips come from memory.

    Starlette answers a malformed range 400; players retry a 416 with a fresh range, and
    the reply carries `Content-Range: bytes */SIZE` so they learn the size. Given the
    file's bytes (`ClipIndex` caches small clips), ranges are cut from them instead of
    read through a thread per call; status codes and headers (Content-Range, ETag,
    Last-Modified, If-Range, multipart ranges) stay FileResponse's own.
    """

    def __init__(self, clip: ClipFile, *, headers: Mapping[str, str]) -> None:
        """Serve `clip` as video/mp4 (from `clip.data` when cached, else from disk)."""
        self._data = clip.data
        super().__init__(clip.path, media_type="video/mp4", headers=headers,
                         stat_result=None if clip.data is None else clip.stat)

    @classmethod
    def _parse_range_header(cls, http_range: str, file_size: int) -> list[tuple[int, int]]:
        try:
            return super()._parse_range_header(http_range, file_size)
        except MalformedRangeHeader:
            raise RangeNotSatisfiable(file_size) from None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A cached clip's whole body or single range in one message; else FileResponse's way.

        The rest (HEAD, If-Range, several ranges, a bad range) goes through FileResponse,
        whose reads `_open_file` serves from memory too.
        """
        part = self._one_part(scope)
        if part is None:
            await super().__call__(scope, receive, send)
            return
        data, (start, end) = part
        headers = MutableHeaders(raw=list(self.raw_headers))
        status = 200
        if end >= 0:
            status = 206
            headers["content-range"] = f"bytes {start}-{end - 1}/{len(data)}"
            headers["content-length"] = str(end - start)
        else:
            start, end = 0, len(data)
        await send({"type": "http.response.start", "status": status, "headers": headers.raw})
        await send({"type": "http.response.body", "body": data[start:end]})

    def _one_part(self, scope: Scope) -> tuple[bytes, tuple[int, int]] | None:
        """A plain GET of a cached clip: its bytes and the one range asked ((0, -1): all)."""
        if self._data is None or scope["type"] != "http" or scope["method"] != "GET":
            return None
        request = Headers(scope=scope)
        if "if-range" in request:
            return None
        http_range = request.get("range")
        if http_range is None:
            return self._data, (0, -1)
        try:
            ranges = self._parse_range_header(http_range, len(self._data))
        except (MalformedRangeHeader, RangeNotSatisfiable):
            return None
        if not ranges:  # too many ranges: FileResponse sends the whole file
            return self._data, (0, -1)
        return (self._data, ranges[0]) if len(ranges) == 1 else None

    @asynccontextmanager
    async def _open_file(self) -> AsyncIterator[Any]:
        if self._data is None:
            async with super()._open_file() as file:
                yield file
        else:
            yield _MemoryFile(self._data)


class _MemoryFile:
    """The part of `anyio.AsyncFile` FileResponse reads with, over bytes in memory."""

    def __init__(self, data: bytes) -> None:
        self._view = memoryview(data)
        self._at = 0

    async def seek(self, offset: int) -> None:
        self._at = offset

    async def read(self, size: int = -1) -> bytes:
        end = len(self._view) if size < 0 else self._at + size
        chunk = bytes(self._view[self._at:end])
        self._at += len(chunk)
        return chunk


@router.get("/clips/{clip_id}.mp4")
async def clip(clip_id: str, request: Request, session: SessionDep) -> ClipResponse:
    """The clip's MP4; honours `Range` (206 Partial Content, 416 when unsatisfiable).

    An annotator gets only clips of pairs and ranking sets assigned to them (`ClipAccess`);
    any other id is 404, as an unknown one. Admins may watch every clip. A clip this
    process granted and holds in memory is answered on the event loop; the rest (a first
    grant, a reload, a disk read) in the thread pool.
    """
    found = _from_memory(request, session, clip_id)
    if found is None:
        found = await run_in_threadpool(_looked_up, request, session, clip_id)
    return ClipResponse(found, headers=_CLIP_HEADERS)


def _from_memory(request: Request, session: SessionData, clip_id: str) -> ClipFile | None:
    """The clip when the grant, the id and the bytes are all in this process's memory."""
    index: ClipIndex = request.app.state.clip_index
    trajectory_id = index.known_trajectory(clip_id)
    if trajectory_id is None or _DISPLAY_ID.fullmatch(clip_id) is None:
        return None
    access: ClipAccess = request.app.state.clip_access
    if session.role != Role.ADMIN.value and not access.remembered(session.annotator_id,
                                                                  trajectory_id):
        return None
    return index.clip_in_memory(trajectory_id)


def _looked_up(request: Request, session: SessionData, clip_id: str) -> ClipFile:
    """The clip, reading the store and the disk as needed.

    Raises:
        HTTPException: 404 for an unknown id, a clip not handed to the caller, or one
            that cannot be served.
    """
    index: ClipIndex = request.app.state.clip_index
    trajectory_id = _trajectory_of(index, clip_id)
    access: ClipAccess = request.app.state.clip_access
    if trajectory_id is None or not (
        session.role == Role.ADMIN.value or access.allowed(session.annotator_id, trajectory_id)
    ):
        raise HTTPException(404, "no such clip")
    found = index.clip(trajectory_id)
    if found is None:
        raise HTTPException(404, "no such clip")
    return found


def _trajectory_of(index: ClipIndex, clip_id: str) -> str | None:
    """The trajectory a well-formed display id stands for, or None.

    Only ids the index knows reach the filesystem (`ClipIndex.clip` builds the path with
    `clip_files`, which refuses names that could leave the clip folder, and serves a clip
    only when its sidecar's `burned_id` is its display id).
    """
    return None if _DISPLAY_ID.fullmatch(clip_id) is None else index.trajectory_id(clip_id)


_CLIP_HEADERS = {"Cache-Control": "private, max-age=3600"}

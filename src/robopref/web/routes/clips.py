"""Review clips by opaque display id, with HTTP range requests (206, 416)."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse
from starlette.responses import MalformedRangeHeader, RangeNotSatisfiable

from robopref.web.clip_index import ClipIndex
from robopref.web.deps import SessionDep

router = APIRouter(tags=["clips"])

_DISPLAY_ID = re.compile(r"[0-9a-f]{24}")


class ClipResponse(FileResponse):
    """A FileResponse that answers a malformed `Range` with 416, as an unsatisfiable one.

    Starlette answers 400; players retry a 416 with a fresh range, and the reply carries
    `Content-Range: bytes */SIZE` so they learn the size.
    """

    @classmethod
    def _parse_range_header(cls, http_range: str, file_size: int) -> list[tuple[int, int]]:
        try:
            return super()._parse_range_header(http_range, file_size)
        except MalformedRangeHeader:
            raise RangeNotSatisfiable(file_size) from None


def clip_path(index: ClipIndex, clip_id: str) -> Path | None:
    """The video file a display id stands for, inside `POOL/clips/`, or None.

    Only ids the index knows reach the filesystem; the path is built by `clip_files`,
    which refuses names that could leave the clip folder. A clip whose sidecar does not
    record its display id as `burned_id` (rendered before display ids, or under another
    key) is never served.
    """
    if _DISPLAY_ID.fullmatch(clip_id) is None:
        return None
    trajectory_id = index.trajectory_id(clip_id)
    return None if trajectory_id is None else index.video(trajectory_id)


@router.get("/clips/{clip_id}.mp4")
def clip(clip_id: str, request: Request, session: SessionDep) -> ClipResponse:
    """The clip's MP4; honours `Range` (206 Partial Content, 416 when unsatisfiable)."""
    index: ClipIndex = request.app.state.clip_index
    video = clip_path(index, clip_id)
    if video is None:
        raise HTTPException(404, "no such clip")
    return ClipResponse(video, media_type="video/mp4",
                        headers={"Cache-Control": "private, max-age=3600"})

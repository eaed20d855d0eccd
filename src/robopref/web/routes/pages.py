"""The browser pages: static HTML, JS and CSS under `robopref/web/static/`.

Pages carry no data: each loads without a session and calls the JSON API, which answers
401 until the annotator signs in. Every page and static file is sent with a strict
Content-Security-Policy (scripts, styles, media and images from this origin only).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

STATIC = Path(__file__).resolve().parent.parent / "static"
"""Folder of the pages' files (shipped as package data)."""

PAGES = {
    "/": "index.html",
    "/annotate": "annotate.html",
    "/calibration": "calibration.html",
    "/rank": "rank.html",
    "/admin": "admin.html",
}
"""URL path → HTML file in `STATIC`."""

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "media-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
"""Headers of every page and static file."""

router = APIRouter(tags=["pages"])


def _page(name: str) -> FileResponse:
    headers = {**SECURITY_HEADERS, "Cache-Control": "no-cache"}
    return FileResponse(STATIC / name, media_type="text/html; charset=utf-8", headers=headers)


def _add_page(path: str, name: str) -> None:
    def page() -> FileResponse:
        return _page(name)

    page.__doc__ = f"The `{name}` page."
    router.add_api_route(path, page, methods=["GET"], include_in_schema=False,
                         name=f"page_{name.removesuffix('.html')}")


for _path, _name in PAGES.items():
    _add_page(_path, _name)


class _StaticFiles(StaticFiles):
    """StaticFiles whose replies carry `SECURITY_HEADERS` and are revalidated (no-cache)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                extra.append((b"cache-control", b"no-cache"))
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await super().__call__(scope, receive, send_with_headers)


def mount_static(app: FastAPI) -> None:
    """Serve `STATIC` at `/static` (files only; no directory listings)."""
    app.mount("/static", _StaticFiles(directory=STATIC), name="static")

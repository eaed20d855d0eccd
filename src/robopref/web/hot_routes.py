"""The three requests of every answer, answered without FastAPI's per-request machinery.

GET /api/next, POST /api/submit and GET /clips/<id>.mp4 make up each answer an annotator
gives. `HotRoutes`, the app's outermost middleware of its own, answers them by calling the
same dependency and route functions the FastAPI routes call (`deps.current_session`,
`deps.csrf_session`, `annotate.next_pair`, `annotate.submit`, `clips.clip`), so the
checks, the replies and their headers are the routes' own; what it skips is routing
through every route, dependency solving and the inner middleware layers. Errors go
through the app's own exception handlers. A submit whose body is not plain, valid JSON
for `SubmitBody` is handed to FastAPI with its body replayed, so every 422 is FastAPI's;
every other request goes to FastAPI untouched.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from robopref.web.deps import csrf_session, current_session
from robopref.web.routes import annotate, clips
from robopref.web.schemas import SubmitBody

_CLIP_PREFIX, _CLIP_SUFFIX = "/clips/", ".mp4"


class HotRoutes:
    """ASGI middleware answering the hot routes itself and passing the rest to `app`."""

    def __init__(self, app: ASGIApp) -> None:
        """In front of `app`, the FastAPI app's inner stack (exception middleware, router)."""
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer GET /api/next, POST /api/submit or a clip GET; anything else goes on."""
        if scope["type"] == "http":
            method, path = scope["method"], scope["path"]
            if method == "GET" and path == "/api/next":
                await _answer(scope, receive, send, _next)
                return
            if method == "POST" and path == "/api/submit":
                await self._submit(scope, receive, send)
                return
            if method == "GET" and _clip_id(path) is not None:
                await _answer(scope, receive, send, _clip)
                return
        await self.app(scope, receive, send)

    async def _submit(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        raw = await request.body()
        body = _submit_body(Headers(scope=scope).get("content-type"), raw)
        if body is None:  # FastAPI answers it (and its 422) from the same bytes
            await self.app(scope, _replay(raw, receive), send)
            return

        async def submit(request: Request) -> Response:
            return await annotate.submit(request, await csrf_session(request), body)

        await _answer(scope, receive, send, submit, request)


async def _next(request: Request) -> Response:
    return await annotate.next_pair(request, await current_session(request))


async def _clip(request: Request) -> Response:
    clip_id = _clip_id(request.scope["path"])
    assert clip_id is not None, "routed here by its path"
    return await clips.clip(clip_id, request, await current_session(request))


def _clip_id(path: str) -> str | None:
    """The `{clip_id}` of the route `/clips/{clip_id}.mp4` (one path segment), or None."""
    if not (path.startswith(_CLIP_PREFIX) and path.endswith(_CLIP_SUFFIX)):
        return None
    clip_id = path[len(_CLIP_PREFIX):-len(_CLIP_SUFFIX)]
    return clip_id if clip_id and "/" not in clip_id else None


def _submit_body(content_type: str | None, raw: bytes) -> SubmitBody | None:
    """The body as FastAPI would validate it, when it is `application/json` and valid; else None.

    Only the plain media type is taken here (FastAPI also takes `…+json` types); whatever
    is refused here FastAPI judges itself.
    """
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type != "application/json" or not raw:
        return None
    try:
        return SubmitBody.model_validate(json.loads(raw))
    except (ValueError, ValidationError):  # JSONDecodeError and UnicodeDecodeError too
        return None


def _replay(raw: bytes, receive: Receive) -> Receive:
    """`receive` with the body already read handed out once more, first."""
    pending = True

    async def replayed() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": raw, "more_body": False}
        return await receive()

    return replayed


async def _answer(scope: Scope, receive: Receive, send: Send,
                  route: Callable[[Request], Awaitable[Response]],
                  request: Request | None = None) -> None:
    """Run `route` and send its reply; its exception as the app's handler for it answers."""
    request = Request(scope, receive) if request is None else request
    try:
        response = await route(request)
    except Exception as exc:
        handler = _handler(scope, exc)
        if handler is None:
            raise  # as out of a route: the server error middleware answers 500
        if inspect.iscoroutinefunction(handler):
            response = await handler(request, exc)
        else:
            response = await run_in_threadpool(handler, request, exc)
    await response(scope, receive, send)


def _handler(scope: Scope, exc: Exception) -> Callable[..., Any] | None:
    """The app's handler for `exc`, looked up as Starlette's exception middleware does."""
    handlers: dict[Any, Callable[..., Any]] = scope["app"].exception_handlers
    if isinstance(exc, HTTPException) and exc.status_code in handlers:
        return handlers[exc.status_code]
    for kind in type(exc).__mro__:
        if kind in handlers:
            return handlers[kind]
    return None

"""`create_app(settings)`: the FastAPI app; opens the store when it starts, not at import."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from robopref.errors import InputError
from robopref.quality import QAConfig
from robopref.store import AlreadyAnnotatedError, NotAssignedError, open_store
from robopref.store.shown import defer_shown, flush_shown
from robopref.web.clip_access import ClipAccess
from robopref.web.clip_index import ClipIndex
from robopref.web.hot_routes import HotRoutes
from robopref.web.routes import admin, annotate, calibration, clips, pages, ranking, session
from robopref.web.settings import Settings
from robopref.web.store_threads import close_store_threads, open_store_threads


def create_app(settings: Settings) -> FastAPI:
    """The annotation server over the store at `settings.db_url` and the pool's clips.

    The store is opened (and migrated only with `settings.upgrade`) when the app starts.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = open_store(settings.db_url, upgrade=settings.upgrade)
        defer_shown(store)  # a pair's first showing is written with the next submit's commit
        app.state.store = store
        app.state.clip_index = ClipIndex(store, settings.pool)
        app.state.clip_access = ClipAccess(store)
        open_store_threads(app.state)
        # What start-up built (modules, the app, the store) lives as long as the process:
        # keep it out of the collector's full passes, which otherwise walk all of it and
        # pause every request for tens of milliseconds.
        gc.freeze()
        try:
            yield
        finally:
            close_store_threads(app.state)
            flush_shown(store)
            store.dispose()

    app = FastAPI(title="robopref annotation server", lifespan=lifespan)
    app.state.settings = settings
    app.state.qa_config = QAConfig()  # kappa threshold of live certification
    for router in (session.router, annotate.router, calibration.router, ranking.router,
                   clips.router, pages.router, admin.router):
        app.include_router(router)
    pages.mount_static(app)
    app.add_middleware(HotRoutes)  # next, submit and clips without the per-request machinery
    app.add_exception_handler(NotAssignedError, _forbidden)
    app.add_exception_handler(AlreadyAnnotatedError, _conflict)
    app.add_exception_handler(InputError, _bad_input)
    return app


def app_from_env() -> FastAPI:
    """Factory for uvicorn workers: `Settings` from the `ROBOPREF_*` environment."""
    return create_app(Settings())  # type: ignore[call-arg]  # fields come from the environment


async def _forbidden(request: Request, exc: Exception) -> JSONResponse:
    what = "ranking set" if getattr(exc, "field", "") == "ranking_set_id" else "assignment"
    return JSONResponse({"detail": f"this {what} is not yours"}, status_code=403)


async def _conflict(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"detail": "already answered under another idempotency key"},
                        status_code=409)


async def _bad_input(request: Request, exc: Exception) -> JSONResponse:
    # InputError text may name stored ids; keep only the field and message for the client
    field = getattr(exc, "field", "input")
    message = getattr(exc, "message", "invalid")
    return JSONResponse({"detail": f"{field}: {message}"}, status_code=422)

"""The browser pages: static HTML, JS and CSS under `robopref/web/static/`."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent.parent / "static"
"""Folder of the pages' files (shipped as package data)."""

router = APIRouter(tags=["pages"])


def mount_static(app: FastAPI) -> None:
    """Serve `STATIC` at `/static` (files only; no directory listings)."""
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

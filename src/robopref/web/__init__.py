"""Annotation web app: FastAPI server for annotators (JSON API and clip streaming).

Typical use::

    app = create_app(Settings(db_url="sqlite:///robopref.db", pool="pool", secret="…"))
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from robopref.lazy_exports import lazy_getattr

if TYPE_CHECKING:
    from robopref.web.app import create_app
    from robopref.web.settings import Settings

_WHERE = {
    "create_app": ("app", "create_app"),
    "Settings": ("settings", "Settings"),
}

__all__ = ["Settings", "create_app"]

__getattr__ = lazy_getattr(__name__, _WHERE)

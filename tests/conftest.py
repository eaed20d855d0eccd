"""Shared fixtures: a seeded rng, single-threaded torch, and tiny pools with known truth."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

try:  # the interop venv (LeRobot, tests/interop) has no hypothesis
    from hypothesis import settings
except ImportError:
    settings = None
if settings is not None:
    # No per-example deadline: on a loaded 2-core CI machine a slow example is not a failure
    # (a deadline once failed a ranking property at 448 ms against 200 ms). Example counts
    # stay as each test sets them.
    settings.register_profile("robopref", deadline=None)
    settings.load_profile("robopref")

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("PYOPENGL_PLATFORM", os.environ["MUJOCO_GL"])
os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _single_threaded_torch() -> None:
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


@pytest.fixture
def tiny_pool(tmp_path: Path) -> Callable[..., object]:
    """Factory: `tiny_pool(n=12, frame_size=32, ...)` → a Pool in a fresh tmp folder."""
    from robopref.testing import tiny_pool as build

    def make(**kwargs: object) -> object:
        name = f"pool{len(list(tmp_path.glob('pool*')))}"
        return build(tmp_path / name, **kwargs)  # type: ignore[arg-type]

    return make


# --- annotation store (robopref.store) ----------------------------------------------------

POSTGRES_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=test connect_timeout=3"
"""libpq conninfo of the test PostgreSQL server (trust auth)."""

_postgres_state: dict[str, str | None] = {}


def _postgres_unreachable() -> str | None:
    """None when the PostgreSQL test server answers, else why not (checked once)."""
    if "reason" not in _postgres_state:
        try:
            import psycopg

            with psycopg.connect(POSTGRES_ADMIN):
                _postgres_state["reason"] = None
        except Exception as exc:  # any failure to connect means: skip, saying why
            _postgres_state["reason"] = f"PostgreSQL at 127.0.0.1:5432 unreachable: {exc}"
    return _postgres_state["reason"]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> object:
    """URL of an empty database: a fresh SQLite file, or a fresh PostgreSQL schema
    (selected through `search_path`) dropped after the test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    reason = _postgres_unreachable()
    if reason is not None:
        pytest.skip(reason)
    import uuid

    import psycopg

    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    try:
        yield (
            "postgresql+psycopg://postgres@127.0.0.1:5432/test"
            f"?options=-csearch_path%3D{schema}"
        )
    finally:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def store(store_url: str) -> object:
    """An open, empty `robopref.store.Store` on SQLite and on PostgreSQL (tables via
    `create_all`; the migrations are tested on their own)."""
    from robopref.store import Base, open_store

    opened = open_store(store_url, upgrade=False)
    Base.metadata.create_all(opened.engine)
    yield opened
    opened.dispose()

"""`robopref serve --db URL --pool POOL`: the annotation web server (FastAPI + uvicorn)."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Annotated

import typer

from robopref.errors import InputError

logger = logging.getLogger(__name__)

SECRET_ENV = "ROBOPREF_SECRET"
"""Environment variable holding the project secret (cookies and display ids)."""


def serve(
    db: Annotated[str, typer.Option("--db", help="Store URL (sqlite:///… or postgresql+psycopg://…).")],
    pool: Annotated[Path, typer.Option("--pool", help="Pool folder; clips come from POOL/clips/.")],
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="uvicorn workers (1 for SQLite; several for PostgreSQL).")
    ] = 1,
    access_log: Annotated[
        bool, typer.Option(help="Log every request (off: the reverse proxy logs them).")
    ] = False,
) -> None:
    """Serve the annotator API and the review clips.

    Migrations run once, here, before any worker starts. The secret that signs session
    cookies and derives the clips' opaque ids comes from $ROBOPREF_SECRET (at least 16
    characters); without it a random one is used and sign-ins end when the server stops.

    Example: ROBOPREF_SECRET=$(openssl rand -hex 32) robopref serve
    --db sqlite:///demo-output/robopref.db --pool demo-output/pool
    """
    import uvicorn

    from robopref.render import stale_clips, stale_clips_warning
    from robopref.store import open_store
    from robopref.web import Settings, create_app
    from robopref.web.nodelay import HTTP_PROTOCOL

    _check_pool(pool)
    stale = stale_clips(pool)
    if stale:
        typer.secho(stale_clips_warning(pool, stale), fg="yellow", err=True)
    open_store(db).dispose()  # migrate once; workers open with upgrade=False
    secret = _secret()
    typer.echo(f"serve: {db} · clips from {pool / 'clips'} · http://{host}:{port} · "
               f"{workers} worker(s)")
    if workers == 1:
        settings = Settings(db_url=db, pool=pool, secret=secret, upgrade=False)  # type: ignore[arg-type]
        uvicorn.run(create_app(settings), host=host, port=port, http=HTTP_PROTOCOL,
                    access_log=access_log)
        return
    os.environ.update({"ROBOPREF_DB_URL": db, "ROBOPREF_POOL": str(pool), SECRET_ENV: secret,
                       "ROBOPREF_UPGRADE": "false"})
    uvicorn.run("robopref.web.app:app_from_env", factory=True, host=host, port=port,
                workers=workers, http=HTTP_PROTOCOL, access_log=access_log)


def _check_pool(pool: Path) -> None:
    """Refuse a pool folder without rendered clips."""
    if not (pool / "clips").is_dir():
        raise InputError(pool, "pool", "has no clips/ folder; run `robopref render POOL` first")


def _secret() -> str:
    """The project secret from the environment, or a random one for this run only."""
    secret = os.environ.get(SECRET_ENV, "")
    if secret and len(secret) < 16:
        raise InputError(SECRET_ENV, "secret", "must be at least 16 characters")
    if not secret:
        logger.warning("%s is not set: using a random secret; clip ids and sign-ins change "
                       "when the server restarts", SECRET_ENV)
        secret = secrets.token_hex(32)
    return secret

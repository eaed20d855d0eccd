"""Alembic environment for the annotation store: targets `robopref.store.models.Base`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from robopref.store.models import Base

target_metadata = Base.metadata


def _configure_and_run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite alters tables by copy-and-move
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run against `config.attributes["connection"]`, or a fresh engine from the URL."""
    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure_and_run(connection)
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as fresh:
        _configure_and_run(fresh)
        fresh.commit()


def run_migrations_offline() -> None:
    """Emit SQL for `alembic upgrade --sql`."""
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if hasattr(context, "config"):  # run by Alembic (not merely imported, e.g. by doctest)
    if context.is_offline_mode():
        run_migrations_offline()
    else:
        run_migrations_online()

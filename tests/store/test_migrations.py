"""Alembic migrations: `upgrade head` on an empty database gives exactly `Base.metadata`."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from robopref.store import Base, open_store
from robopref.store.session import upgrade_schema


def test_upgrade_head_on_empty_database_matches_the_models(store_url: str) -> None:
    store = open_store(store_url)  # upgrades to head
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
        tables = set(inspect(connection).get_table_names())
    assert diff == []
    assert tables == set(Base.metadata.tables) | {"alembic_version"}
    store.dispose()


def test_upgrade_is_idempotent_and_downgrade_empties(store_url: str) -> None:
    store = open_store(store_url)
    upgrade_schema(store)  # already at head: a no-op
    from alembic import command

    from robopref.store.session import alembic_config

    config = alembic_config(store)
    with store.writer.connect() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
        connection.commit()
    with store.engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
    store.dispose()


def test_sqlite_store_runs_in_wal_mode_with_foreign_keys(tmp_path: object) -> None:
    store = open_store(f"sqlite:///{tmp_path}/x.db")
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    store.dispose()


def test_the_comparison_sees_a_drifted_model(store_url: str) -> None:
    from sqlalchemy import Column, Integer, MetaData, Table

    store = open_store(store_url)
    drifted = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(drifted)
    Table("extra", drifted, Column("x", Integer, primary_key=True))
    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), drifted)
    assert [d[0] for d in diff] == ["add_table"]
    store.dispose()

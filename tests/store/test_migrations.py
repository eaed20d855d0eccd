"""Alembic migrations: `upgrade head` on an empty database gives exactly `Base.metadata`."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from robopref.store import Base, Store, open_store
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


_ROWS_0001 = (
    "INSERT INTO annotators (annotator_id, role, token_hash, certified, created_at) "
    "VALUES ('ann-1', 'annotator', NULL, true, '2026-01-01 00:00:00')",
    "INSERT INTO batches (batch_id, kind, status, created_at) "
    "VALUES ('b1', 'production', 'open', '2026-01-01 00:00:00')",
    "INSERT INTO trajectories (trajectory_id, task, env_id, source, quality_score, quartile, "
    "clip_path, synced_at) VALUES ('t0', 'reach', 'env', 'expert', 1.0, 4, NULL, "
    "'2026-01-01 00:00:00'), ('t1', 'reach', 'env', 'random', 0.0, 1, NULL, "
    "'2026-01-01 00:00:00')",
    "INSERT INTO pairs (pair_id, batch_id, trajectory_a_id, trajectory_b_id, task, kind, "
    "stratum, quartile_a, quartile_b, expected_preference, duplicate_of) VALUES "
    "('p1', 'b1', 't0', 't1', 'reach', 'regular', 'distant', 4, 1, NULL, NULL)",
    "INSERT INTO ranking_sets (ranking_set_id, batch_id, task) VALUES ('r1', 'b1', 'reach')",
    "INSERT INTO rankings (ranking_id, ranking_set_id, annotator_id, response_time_ms, "
    "idempotency_key, created_at) VALUES ('k1', 'r1', 'ann-1', 5, 'key', "
    "'2026-01-01 00:00:00')",
    "INSERT INTO ranking_items (ranking_id, rank, trajectory_id) VALUES ('k1', 0, 't0')",
)


def _upgraded_from(store_url: str, revision: str, rows: tuple[str, ...]) -> Store:
    """A store at `revision` given `rows`, then upgraded to head."""
    from sqlalchemy import text

    store = open_store(store_url, upgrade=False)
    upgrade_schema(store, revision)
    with store.writer.begin() as connection:
        for statement in rows:
            connection.execute(text(statement))
    upgrade_schema(store)
    return store


def _downgrade(store: Store, revision: str) -> None:
    from alembic import command

    from robopref.store.session import alembic_config

    config = alembic_config(store)
    with store.writer.connect() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
        connection.commit()


def test_0002_upgrades_a_0001_store_with_rows(store_url: str) -> None:
    from sqlalchemy import text

    store = _upgraded_from(store_url, "0001", _ROWS_0001)
    with store.engine.connect() as connection:
        excluded, certified = connection.execute(
            text("SELECT excluded, certified FROM annotators")).one()
        rubric = connection.execute(text("SELECT rubric FROM batches")).scalar_one()
        rationale = connection.execute(text("SELECT rationale FROM pairs")).scalar_one()
        flags = connection.execute(text("SELECT flags FROM ranking_items")).scalar_one()
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert (bool(excluded), bool(certified), bool(rubric)) == (False, True, False)
    assert (rationale, flags) == (None, None)
    assert diff == []
    _downgrade(store, "0001")
    with store.engine.connect() as connection:
        columns = {c["name"] for c in inspect(connection).get_columns("batches")}
        kept = connection.execute(text("SELECT count(*) FROM ranking_items")).scalar_one()
    assert "rubric" not in columns and kept == 1
    store.dispose()


_ROWS_0002 = (
    "INSERT INTO annotators (annotator_id, role, token_hash, certified, created_at, excluded) "
    "VALUES ('ann-1', 'annotator', NULL, true, '2026-01-01 00:00:00', false), "
    "('ann-2', 'annotator', NULL, true, '2026-01-01 00:00:00', false)",
    "INSERT INTO batches (batch_id, kind, status, created_at, rubric) VALUES "
    "('b1', 'production', 'open', '2026-01-01 00:00:00', false), "
    "('b2', 'production', 'open', '2026-01-02 00:00:00', true)",
    "INSERT INTO trajectories (trajectory_id, task, env_id, source, quality_score, quartile, "
    "clip_path, synced_at) VALUES ('t0', 'reach', 'env', 'expert', 1.0, 4, NULL, "
    "'2026-01-01 00:00:00'), ('t1', 'reach', 'env', 'random', 0.0, 1, NULL, "
    "'2026-01-01 00:00:00')",
    "INSERT INTO pairs (pair_id, batch_id, trajectory_a_id, trajectory_b_id, task, kind, "
    "stratum, quartile_a, quartile_b) VALUES "
    "('p1', 'b1', 't0', 't1', 'reach', 'regular', 'distant', 4, 1), "
    "('p2', 'b1', 't1', 't0', 'reach', 'regular', 'distant', 1, 4), "
    "('p3', 'b2', 't0', 't1', 'reach', 'regular', 'distant', 4, 1)",
    "INSERT INTO assignments (pair_id, annotator_id, batch_id, position, left_trajectory_id, "
    "completed, skipped) VALUES ('p1', 'ann-1', 'b1', 0, 't0', true, false), "
    "('p2', 'ann-1', 'b1', 1, 't1', false, true), ('p3', 'ann-1', 'b2', 0, 't0', false, false), "
    "('p1', 'ann-2', 'b1', 0, 't1', false, false)",
)


def test_0003_counts_the_assignments_of_a_0002_store(store_url: str) -> None:
    from sqlalchemy import text

    from robopref.store import assignment_progress, next_assignment

    store = _upgraded_from(store_url, "0002", _ROWS_0002)
    with store.engine.connect() as connection:
        counts = connection.execute(text(
            "SELECT annotator_id, batch_id, assigned, done FROM assignment_counts")).all()
        indexes = {i["name"] for i in inspect(connection).get_indexes("assignments")}
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert sorted(tuple(row) for row in counts) == [
        ("ann-1", "b1", 2, 2), ("ann-1", "b2", 1, 0), ("ann-2", "b1", 1, 0)]
    assert "ix_assignments_queue" in indexes and "ix_assignments_annotator_id" not in indexes
    assert diff == []
    item = next_assignment(store, "ann-1", mark_shown=False)
    assert item is not None and (item.pair_id, item.remaining, item.rubric) == ("p3", 1, True)
    assert tuple(assignment_progress(store, "ann-1")) == (2, 3)
    _downgrade(store, "0002")
    with store.engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
        indexes = {i["name"] for i in inspect(connection).get_indexes("assignments")}
        kept = connection.execute(text("SELECT count(*) FROM assignments")).scalar_one()
    assert "assignment_counts" not in tables and kept == 4
    assert "ix_assignments_annotator_id" in indexes and "ix_assignments_queue" not in indexes
    store.dispose()

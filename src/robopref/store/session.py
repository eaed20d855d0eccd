"""Opening a store: the engine (SQLite in WAL mode or PostgreSQL), sessions and migrations."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.pool import PoolProxiedConnection

from robopref.errors import InputError
from robopref.store.defaults import DEFAULT_URL
from robopref.store.pending import PendingShown
from robopref.store.prepared import RawConnection

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 30_000
"""How long a SQLite writer waits for the lock before failing."""

MIGRATIONS = Path(__file__).parent / "migrations"
"""Alembic script folder shipped inside the package."""

_WRITE = "robopref_write"


@dataclass(frozen=True)
class Store:
    """An open annotation store; use `open_store(url)`.

    All reads and writes go through the functions of `robopref.store`, which take a Store.
    """

    url: str
    """The database URL it was opened with (password hidden in `repr`)."""
    engine: Engine
    """Engine for read transactions (plain `BEGIN` on SQLite)."""
    writer: Engine
    """The same pool, for write transactions (`BEGIN IMMEDIATE` on SQLite)."""
    _write_lock: threading.RLock = field(default_factory=threading.RLock, repr=False,
                                         compare=False)
    """SQLite: this process's writers queue here, one at a time, before taking a pooled
    connection, instead of each holding one while SQLite's busy handler sleeps and retries
    (writers in other processes still meet the busy timeout)."""
    pending_shown: PendingShown = field(default_factory=PendingShown, repr=False,
                                        compare=False)
    """First showings waiting for the next commit (`store.shown.defer_shown`)."""

    @property
    def is_sqlite(self) -> bool:
        """True for the embedded SQLite backend."""
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; rolled back on exit."""
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error.

        On SQLite, writers of this process take turns (one write transaction at a time).
        """
        with self._writers_turn(), Session(self.writer, expire_on_commit=False) as session, \
                session.begin():
            yield session

    @contextmanager
    def read_rows(self) -> Iterator[Connection]:
        """A plain connection in one read transaction (rolled back on exit).

        For Core statements on hot paths: no ORM session, no identity map.
        """
        with self.engine.connect() as connection:
            yield connection

    @contextmanager
    def write_rows(self) -> Iterator[Connection]:
        """A plain connection in one write transaction, as `write` (committed on success)."""
        with self._writers_turn(), self.writer.begin() as connection:
            yield connection

    @contextmanager
    def raw_read(self, *, snapshot: bool = True) -> Iterator[RawConnection]:
        """A pooled driver connection for `Prepared` statements, in one read transaction.

        `snapshot=False` runs a single statement without an explicit transaction (one
        SELECT is consistent by itself). Rolled back and returned to the pool on exit.
        On PostgreSQL every read runs in autocommit mode: under READ COMMITTED each
        statement sees its own snapshot anyway, and the transaction would only add two
        round trips (BEGIN, ROLLBACK).
        """
        with self._raw(self.engine, begin="BEGIN" if snapshot else None) as connection:
            yield connection

    @contextmanager
    def raw_write(self) -> Iterator[RawConnection]:
        """As `raw_read`, in one write transaction committed on success (as `write_rows`)."""
        with self._writers_turn(), self._raw(self.writer, begin="BEGIN IMMEDIATE",
                                             commit=True) as connection:
            yield connection

    @contextmanager
    def raw_statement(self) -> Iterator[RawConnection]:
        """PostgreSQL: a pooled driver connection in autocommit mode, for writes.

        Each statement is its own transaction, committed (and flushed to the WAL, as
        `synchronous_commit` stays on) before it returns: for a write that is one
        statement, this saves the round trips of BEGIN and COMMIT.

        Raises:
            TypeError: On SQLite, whose writers take the lock with `raw_write`.
        """
        if self.is_sqlite:
            raise TypeError("raw_statement is for PostgreSQL; SQLite writes use raw_write")
        with self._raw(self.writer, begin=None) as connection:
            yield connection

    @contextmanager
    def _raw(self, engine: Engine, *, begin: str | None,
             commit: bool = False) -> Iterator[RawConnection]:
        # PostgreSQL (psycopg, not autocommit) begins a transaction at the first statement
        # of a write; SQLite's connections run in autocommit mode (`_on_connect`), so begin
        # explicitly.
        pooled = engine.raw_connection()
        autocommit = not commit and not self.is_sqlite
        try:
            if autocommit:
                pooled.dbapi_connection.autocommit = True  # type: ignore[union-attr]
            cursor = pooled.cursor()
            connection = RawConnection(engine.dialect, cursor)
            if begin is not None and self.is_sqlite:
                connection.execute(begin, ())
            yield connection
            if commit:
                pooled.commit()
            cursor.close()
        except BaseException as exc:
            self._raw_failed(pooled, exc)
            raise
        finally:
            if autocommit and pooled.dbapi_connection is not None:
                pooled.dbapi_connection.autocommit = False
            pooled.close()  # back to the pool, which rolls back what is left open

    def _raw_failed(self, pooled: PoolProxiedConnection, exc: BaseException) -> None:
        """Roll back; a connection the server dropped leaves the pool."""
        original = exc.orig if isinstance(exc, DBAPIError) else exc
        dbapi = self.engine.dialect.loaded_dbapi
        if isinstance(original, dbapi.Error) and self.engine.dialect.is_disconnect(
                original, pooled.dbapi_connection, None):
            pooled.invalidate(original)
            return
        try:
            pooled.rollback()
        except dbapi.Error:
            pooled.invalidate()

    def _writers_turn(self) -> AbstractContextManager[object]:
        """The process's write lock on SQLite; nothing on PostgreSQL (row locks suffice)."""
        return self._write_lock if self.is_sqlite else nullcontext()

    def dispose(self) -> None:
        """Close pooled connections (call before a process forks or exits)."""
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Store({make_url(self.url).render_as_string(hide_password=True)!r})"


def open_store(url: str = DEFAULT_URL, *, upgrade: bool = True, existing: bool = False) -> Store:
    """Open (and by default migrate to the latest schema) the store at `url`.

    Args:
        url: `sqlite:///path.db` (WAL mode, foreign keys on, 30 s busy timeout) or
            `postgresql+psycopg://user@host:port/db`. libpq options such as
            `?options=-csearch_path%3Dmyschema` pass through to the driver.
        upgrade: Run Alembic migrations to head first (idempotent; cheap once at head).
        existing: Refuse a SQLite file that does not exist yet (verbs that only read the
            store must not create an empty one).

    Raises:
        InputError: The URL cannot be parsed, names an unsupported backend, names a SQLite
            file that is missing (with `existing`) or not a database, or the server cannot
            be reached.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise InputError(url, "db", f"not a database URL: {exc}") from exc
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise InputError(url, "db", "only sqlite:/// and postgresql+psycopg:// are supported")
    if parsed.get_backend_name() == "sqlite":
        _check_sqlite_file(url, parsed.database, existing=existing)
    engine = _sqlite_engine(url) if parsed.get_backend_name() == "sqlite" else _pg_engine(url)
    store = Store(url=url, engine=engine, writer=engine.execution_options(**{_WRITE: True}))
    try:
        if upgrade:
            upgrade_schema(store)
        else:
            with engine.connect():
                pass
    except DBAPIError as exc:
        engine.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise InputError(_shown_url(url), "db", f"cannot open the store: {reason}") from exc
    return store


def _check_sqlite_file(url: str, database: str | None, *, existing: bool) -> None:
    """Refuse a missing file (when `existing`) or a folder before SQLite creates anything."""
    if not database or database == ":memory:":
        return
    path = Path(database)
    if path.is_dir():
        raise InputError(path, "db", "is a folder, not a SQLite database file")
    if existing and not path.is_file():
        raise InputError(path, "db", "no store there (give the database file a run created)")
    if not existing and not path.parent.is_dir():
        raise InputError(path, "db", f"folder {path.parent} does not exist")


def _shown_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _pg_engine(url: str) -> Engine:
    # No pre-ping (a round trip before every checkout); connections are renewed after
    # 5 minutes instead, and a connection the server dropped fails one request, not all.
    # Ten connections per process, all kept: the hot paths hold one for one statement
    # each, and fewer backends gave more submissions/s at saturation than 10 + 20 did.
    # No overflow: an overflow connection is closed when it is returned, so every burst
    # above the pool size started new PostgreSQL backends (~17/s under serve_load.py,
    # most of the database's CPU per answer); a burst now waits for a pooled one.
    return create_engine(url, pool_size=10, max_overflow=0, pool_recycle=300)


def _sqlite_engine(url: str) -> Engine:
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000}, pool_size=10)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling begins lazily and cannot BEGIN IMMEDIATE;
        # take it over (SQLAlchemy docs, "Serializable isolation / Savepoints / Transactional DDL").
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        # FULL: an acknowledged annotation survives a power cut too, not only an app crash
        # (NORMAL in WAL mode may lose the last commits on power loss).
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A writer takes the lock up front: a deferred transaction that reads and then
        # writes fails with SQLITE_BUSY without waiting when another writer got in first.
        immediate = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def alembic_config(store: Store) -> Any:
    """An Alembic `Config` pointing at the packaged migrations and this store's URL."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", store.url.replace("%", "%%"))
    return config


def upgrade_schema(store: Store, revision: str = "head") -> None:
    """Run `alembic upgrade <revision>` on the store (creates every table on an empty one)."""
    from alembic import command

    config = alembic_config(store)
    with store.writer.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        connection.commit()
    logger.info("store %r at revision %s", store, revision)

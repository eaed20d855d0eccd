"""Core statements compiled once per dialect and run on the driver's own cursor.

The annotator's hot paths (GET /api/next, POST /api/submit) run a dozen small statements
per answer; through a SQLAlchemy `Connection` each costs about 100 µs of Python around
10 µs of database work (events, execution context, result objects). `Prepared` keeps what
SQLAlchemy would do for the statement itself — its SQL for the dialect, bound values and
results through the column types' own processors, `IN` lists expanded — and runs it on the
DBAPI cursor of a pooled connection (`RawConnection`, from `Store.raw_read` /
`Store.raw_write`). Driver errors come out as SQLAlchemy's (`IntegrityError` and so on).
"""

from __future__ import annotations

import threading
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import Delete, Insert, Update
from sqlalchemy.sql.selectable import Select

Processor = Callable[[Any], Any]
Source = tuple[str, str | None, int, Processor | None, Any]
Statement = Select[*tuple[Any, ...]] | Insert | Update | Delete


@dataclass(frozen=True)
class _Plan:
    """One statement for one dialect and one length of each `IN` list."""

    sql: str
    sources: tuple[Source, ...]
    """Per driver parameter: (its name, the caller's key or None for a fixed value, the
    index in an expanded list or -1, the bind processor, the fixed value)."""
    positional: bool


class RawConnection:
    """A pooled DBAPI connection and cursor, for `Prepared` statements (see `Store.raw_read`)."""

    def __init__(self, dialect: Dialect, cursor: Any) -> None:
        """Statements of `dialect` run on `cursor`."""
        self.dialect = dialect
        self.cursor = cursor

    def execute(self, sql: str, args: Sequence[Any] | Mapping[str, Any]) -> Any:
        """Run SQL on the cursor; driver errors re-raised as SQLAlchemy's `DBAPIError` kinds."""
        try:
            self.cursor.execute(sql, args)
        except self.dialect.loaded_dbapi.Error as exc:
            raise DBAPIError.instance(sql, args, exc, self.dialect.loaded_dbapi.Error,
                                      dialect=self.dialect) from exc
        return self.cursor


class Prepared:
    """A Core statement run with `RawConnection`s: compiled once per dialect and `IN` length.

    Results are named tuples with the statement's column names, values converted by the
    columns' types as SQLAlchemy would (e.g. SQLite's datetimes and booleans).
    """

    def __init__(self, statement: Statement) -> None:
        """Prepare `statement` (a select, insert, update or delete with bound parameters)."""
        self.statement = statement
        self._compiled: dict[str, tuple[SQLCompiler, tuple[str, ...]]] = {}
        self._plans: dict[tuple[str, tuple[int, ...]], _Plan] = {}
        self._results: dict[str, tuple[Processor | None, ...]] = {}
        self._lock = threading.Lock()
        self._row: Any = None
        self._types: tuple[Any, ...] = ()
        if isinstance(statement, Select):
            columns = statement.selected_columns
            self._row = namedtuple("Row", [c.key for c in columns], rename=True)  # type: ignore[misc]
            self._types = tuple(c.type for c in columns)

    def rows(self, connection: RawConnection, params: Mapping[str, Any]) -> list[Any]:
        """Every result row."""
        cursor = self._run(connection, params)
        return [self._make(row, connection.dialect) for row in cursor.fetchall()]

    def first(self, connection: RawConnection, params: Mapping[str, Any]) -> Any | None:
        """The first result row, or None."""
        row = self._run(connection, params).fetchone()
        return None if row is None else self._make(row, connection.dialect)

    def scalar(self, connection: RawConnection, params: Mapping[str, Any]) -> Any:
        """The first column of the first row, or None."""
        row = self.first(connection, params)
        return None if row is None else row[0]

    def scalars(self, connection: RawConnection, params: Mapping[str, Any]) -> list[Any]:
        """The first column of every row."""
        return [row[0] for row in self.rows(connection, params)]

    def rowcount(self, connection: RawConnection, params: Mapping[str, Any]) -> int:
        """Run a write; the rows it matched."""
        return int(self._run(connection, params).rowcount)

    def _run(self, connection: RawConnection, params: Mapping[str, Any]) -> Any:
        plan = self._plan(connection.dialect, params)
        values = [
            fixed if key is None
            else (params[key][index] if index >= 0 else params[key]) if process is None
            else process(params[key][index] if index >= 0 else params[key])
            for _, key, index, process, fixed in plan.sources
        ]
        args: Sequence[Any] | Mapping[str, Any] = (
            values if plan.positional
            else {source[0]: value for source, value in zip(plan.sources, values, strict=True)})
        return connection.execute(plan.sql, args)

    def _make(self, row: Sequence[Any], dialect: Dialect) -> Any:
        processors = self._results.get(dialect.name)
        if processors is None:
            processors = tuple(t.dialect_impl(dialect).result_processor(dialect, None)
                               for t in self._types)
            self._results[dialect.name] = processors
        assert self._row is not None, "only a select has rows"
        return self._row._make(value if p is None else p(value)
                               for p, value in zip(processors, row, strict=True))

    def _plan(self, dialect: Dialect, params: Mapping[str, Any]) -> _Plan:
        compiled, expanding = self._compile(dialect)
        key = (dialect.name, tuple(len(params[name]) for name in expanding))
        plan = self._plans.get(key)
        if plan is None:
            with self._lock:
                plan = self._plans.get(key) or self._build(compiled, expanding, params)
                self._plans[key] = plan
        return plan

    def _compile(self, dialect: Dialect) -> tuple[SQLCompiler, tuple[str, ...]]:
        found = self._compiled.get(dialect.name)
        if found is None:
            compiled = self.statement.compile(dialect=dialect)
            assert isinstance(compiled, SQLCompiler)
            binds: list[BindParameter[Any]] = list(compiled.binds.values())
            expanding = tuple(sorted({b.key for b in binds if b.expanding}))
            found = (compiled, expanding)
            self._compiled[dialect.name] = found
        return found

    @staticmethod
    def _build(compiled: SQLCompiler, expanding: tuple[str, ...],
               params: Mapping[str, Any]) -> _Plan:
        """The SQL and parameter sources for these `IN` lengths, from SQLAlchemy's expansion."""
        dialect = compiled.dialect
        binds = compiled.binds
        required = {name for name, b in binds.items() if b.required}
        sample = {name: params[name] for name in required | set(expanding)}
        state = compiled.construct_expanded_state(sample)
        origin: dict[str, tuple[str, int]] = {}
        for name, expanded in state.parameter_expansion.items():
            origin.update({part: (name, i) for i, part in enumerate(expanded)})
        names = (list(state.positiontup) if state.positiontup is not None
                 else list(state.parameters))
        sources: list[Source] = []
        for name in names:
            base, index = origin.get(name, (name, -1))
            process = binds[base].type.dialect_impl(dialect).bind_processor(dialect)
            if base in required or index >= 0:
                sources.append((name, base, index, process, None))
            else:  # a value written into the statement (e.g. status = 'open')
                value = state.parameters[name]
                sources.append((name, None, -1, None,
                                value if process is None else process(value)))
        return _Plan(sql=state.statement, sources=tuple(sources),
                     positional=state.positiontup is not None)

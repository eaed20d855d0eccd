"""Table files: written as Parquet and JSON Lines from the same rows, read by one checked reader.

Parquet is for tools, JSON Lines for people and greps; both come from the same rows.

`read_table_file` is the one way a stage reads a preferences, annotations, pairs,
assignments or rewards file: a truncated or garbage Parquet, a JSONL line that is not a JSON
object, a missing column, a value of the wrong type or out of range, a null, NaN or inf, a
duplicate id or a hostile one is an `InputError(file, column-or-line, message)`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple, NoReturn

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from robopref.atomic import write_atomic, write_text_atomic
from robopref.errors import InputError
from robopref.schemas import (
    MAX_ID_CHARS,
    MAX_TEXT_CHARS,
    Column,
    Kind,
    TableSpec,
    id_problem,
    text_problem,
)


class TableFiles(NamedTuple):
    """The Parquet and JSONL files of one table."""

    parquet: Path
    jsonl: Path


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


_LINE_BREAKS = {"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}
"""Characters that Python's str.splitlines() (and some JSONL readers) treat as line ends;
they can only occur inside JSON strings, where the escape is equivalent."""


def json_line(record: dict[str, Any]) -> str:
    r"""One JSONL line: UTF-8 JSON with no character any reader could split on.

    >>> json_line({"a": "x" + chr(0x2028), "b": "é"})
    '{"a": "x\\u2028", "b": "é"}'
    """
    text = json.dumps(record, ensure_ascii=False, default=_json_value)
    for char, escape in _LINE_BREAKS.items():
        text = text.replace(char, escape)
    return text


def write_table_files(table: pa.Table, folder: Path, stem: str) -> TableFiles:
    """Write `<stem>.parquet` and `<stem>.jsonl` from the same rows, each atomically.

    JSONL keeps the column order; timestamps become ISO 8601 strings.
    """
    files = TableFiles(folder / f"{stem}.parquet", folder / f"{stem}.jsonl")
    write_atomic(files.parquet, lambda tmp: pq.write_table(table, tmp))
    lines = "".join(json_line(record) + "\n" for record in table.to_pylist())
    write_text_atomic(files.jsonl, lines)
    return files


# --- reading ------------------------------------------------------------------------------------

_INT64 = 2**63
_SHOWN_CHARS = 60


def read_table_file(
    path: str | Path, spec: TableSpec, *, require: Sequence[str] | None = None
) -> pd.DataFrame:
    """Read a `.parquet` or `.jsonl` table file and check it against `spec`.

    Args:
        path: The file; the suffix says the format.
        spec: Its columns (`robopref.schemas`: PREFERENCES_TABLE, ANNOTATIONS_TABLE, ...).
        require: Columns the caller needs; `spec.required` if None. Every column of `spec`
            that is present is checked, required or not; other columns are kept unchecked.

    Returns:
        The rows with a fresh index: FLOAT columns as float64, INT as int64, TIMESTAMP as
        UTC datetimes, ID_LIST as lists of str, the others as given. `frame.attrs["origin"]`
        names the file, so later checks across files can name it too.

    Raises:
        InputError: Naming the file and the column (or `line N` of a JSONL file that is not
            a JSON object); the message names the row (`row N`, or `line N` in JSONL).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, spec.name, "not found (or not a file)")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return check_table(_read_parquet(path, spec.name), spec, origin=path, require=require)
    if suffix == ".jsonl":
        frame, lines = _read_jsonl(path, spec.name)
        if not lines:  # no rows, so no keys: the file has the spec's columns, empty
            frame = pd.DataFrame({name: pd.Series([], dtype=object) for name in spec.names})
        return check_table(frame, spec, origin=path, require=require, lines=lines)
    raise InputError(path, spec.name, "expected a .parquet or .jsonl file")


def check_table(
    frame: pd.DataFrame,
    spec: TableSpec,
    *,
    origin: str | Path,
    require: Sequence[str] | None = None,
    lines: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Check a frame against `spec` as `read_table_file` does (for frames given in memory).

    Args:
        frame: The rows.
        spec: The table's columns.
        origin: File (or description) named in errors.
        require: Columns the caller needs; `spec.required` if None.
        lines: The JSONL line of each row (errors then say `line N`, else `row N`).

    Raises:
        InputError: A column is missing, a value is wrong, or a uniqueness rule is broken.
    """
    names = [str(c) for c in frame.columns]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InputError(origin, twice[0], "column appears more than once")
    required = spec.required if require is None else tuple(require)
    for name in required:
        if name not in frame.columns:
            raise InputError(origin, name, f"column missing; {spec.name} need {list(required)}")
    out = frame.reset_index(drop=True)
    rows = _RowNames(origin, lines)
    checked = {
        c.name: _check_column(out[c.name], c, rows) for c in spec.columns if c.name in out.columns
    }
    out = out.assign(**checked)
    _check_rules(out, spec, rows)
    out.attrs["origin"] = str(origin)
    return out


class _RowNames:
    """Names rows in errors (`row 3`, or the JSONL `line 7`) and raises them."""

    def __init__(self, origin: str | Path, lines: Sequence[int] | None) -> None:
        self.origin = origin
        self.lines = lines

    def name(self, row: int) -> str:
        """`line N` (JSONL) or `row N` (1-based) of the row at position `row`."""
        return f"line {self.lines[row]}" if self.lines is not None else f"row {row + 1}"

    def fail(self, column: str, row: int, message: str) -> NoReturn:
        """Raise the InputError for `column` at position `row`."""
        raise InputError(self.origin, column, f"{self.name(row)}: {message}")


def _shown(value: Any) -> str:
    text = repr(value.tolist() if isinstance(value, np.ndarray | np.generic) else value)
    return text if len(text) <= _SHOWN_CHARS else f"{text[:_SHOWN_CHARS]}… ({len(text)} chars)"


def _first(mask: pd.Series | np.ndarray) -> int:
    return int(np.argmax(np.asarray(mask)))


def _check_column(series: pd.Series, column: Column, rows: _RowNames) -> pd.Series:
    """The column's values checked (nulls, type, content, range) and normalised."""
    missing = series.isna().to_numpy()
    if not column.nullable and missing.any():
        rows.fail(column.name, _first(missing), "missing value (null or NaN)")
    checker = _CHECKERS[column.kind]
    return checker(series, missing, column, rows)


def _check_strings(
    series: pd.Series, missing: np.ndarray, column: Column, rows: _RowNames
) -> pd.Series:
    if not isinstance(series.dtype, pd.StringDtype):
        is_str = np.fromiter((isinstance(v, str) for v in series), bool, len(series))
        bad = ~missing & ~is_str
        if bad.any():
            value = series.iloc[_first(bad)]
            rows.fail(column.name, _first(bad), f"{_shown(value)} is not a string")
    present = series[~missing & _suspects(series, column)]
    for value in pd.unique(present):
        problem = _string_problem(str(value), column)
        if problem is not None:
            row = _first((series == value).to_numpy())
            rows.fail(column.name, row, f"{_shown(value)} {problem}")
    return series


_SUSPECT = {
    Kind.ID: r"[^\x20-\x7e]|^ | $",
    Kind.TEXT: r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]",
}
"""RE2 patterns matching every string that may break its kind's rule (`schemas.id_problem`,
`text_problem`): non-ASCII or edge spaces for ids; the forbidden characters for text (Arrow
strings are valid UTF-8, so they hold no lone surrogates)."""


def _suspects(series: pd.Series, column: Column) -> np.ndarray:
    """Rows worth checking one by one: a superset of the bad ones.

    Arrow's vectorised string kernels find them in an Arrow-backed column (millions of rows
    in well under a second); any other column is checked row by row.
    """
    if not (isinstance(series.dtype, pd.StringDtype) and series.dtype.storage == "pyarrow"):
        return np.ones(len(series), bool)
    import pyarrow.compute as pc

    values = pa.array(series, from_pandas=True)
    if column.kind is Kind.CHOICE:
        suspect = pc.invert(pc.is_in(values, value_set=pa.array(column.allowed)))
    else:
        limit = MAX_ID_CHARS if column.kind is Kind.ID else MAX_TEXT_CHARS
        lengths = pc.utf8_length(values)
        suspect = pc.or_(
            pc.or_(pc.greater(lengths, limit), pc.equal(lengths, 0)),
            pc.match_substring_regex(values, _SUSPECT[column.kind]),
        )
    return np.asarray(pc.fill_null(suspect, True).to_numpy(zero_copy_only=False), bool)


def _string_problem(value: str, column: Column) -> str | None:
    if column.kind is Kind.CHOICE:
        return None if value in column.allowed else f"is not one of {list(column.allowed)}"
    if column.kind is Kind.TEXT:
        return text_problem(value)
    return id_problem(value)


def _check_numbers(
    series: pd.Series, missing: np.ndarray, column: Column, rows: _RowNames
) -> pd.Series:
    integer = column.kind is Kind.INT
    if pd.api.types.is_bool_dtype(series.dtype) or not (
        pd.api.types.is_numeric_dtype(series.dtype) or series.dtype == object
    ):
        bad = ~missing
    elif pd.api.types.is_numeric_dtype(series.dtype):
        bad = np.zeros(len(series), bool)
    else:
        bad = ~missing & ~np.fromiter((_is_number(v) for v in series), bool, len(series))
    if bad.any():
        value = series.iloc[_first(bad)]
        rows.fail(column.name, _first(bad), f"{_shown(value)} is not a number")
    if pd.api.types.is_numeric_dtype(series.dtype):
        values = series.to_numpy(np.float64, na_value=math.nan)
    else:
        values = np.array([_as_float(v, m) for v, m in zip(series, missing, strict=True)])
    problems = (
        (~np.isfinite(values), "is not finite"),
        (integer & (values != np.floor(values)), "is not a whole number"),
        (integer & (np.abs(values) >= _INT64), "is outside the 64-bit integer range"),
        (values < (-math.inf if column.low is None else column.low), f"is below {column.low}"),
        (values > (math.inf if column.high is None else column.high), f"is above {column.high}"),
    )
    for mask, problem in problems:
        mask = mask & ~missing
        if mask.any():
            rows.fail(column.name, _first(mask), f"{_shown(series.iloc[_first(mask)])} {problem}")
    if integer and not missing.any():
        if pd.api.types.is_numeric_dtype(series.dtype):
            return series.astype(np.int64)
        return pd.Series([int(v) for v in series], index=series.index, dtype=np.int64)
    return pd.Series(values, index=series.index, dtype=np.float64)


def _as_float(value: Any, missing: bool) -> float:
    if missing:
        return math.nan
    try:
        return float(value)
    except OverflowError:  # an integer with hundreds of digits
        return math.inf


def _is_number(value: Any) -> bool:
    """A real number that is not a boolean (JSON true is not 1); None/NaN count as numbers."""
    return value is None or (
        isinstance(value, int | float | np.integer | np.floating)
        and not isinstance(value, bool | np.bool_)
    )


def _check_timestamps(
    series: pd.Series, missing: np.ndarray, column: Column, rows: _RowNames
) -> pd.Series:
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return pd.Series(series.dt.tz_convert("UTC"))
    if pd.api.types.is_datetime64_dtype(series.dtype):
        return pd.Series(series.dt.tz_localize("UTC"))
    kinds = (str, datetime)
    bad = ~missing & ~np.fromiter((isinstance(v, kinds) for v in series), bool, len(series))
    if bad.any():
        value = series.iloc[_first(bad)]
        rows.fail(column.name, _first(bad), f"{_shown(value)} is not a timestamp")
    parsed = pd.to_datetime(
        series.astype(object).where(~missing, None), utc=True, format="ISO8601", errors="coerce"
    )
    bad = ~missing & parsed.isna().to_numpy()
    if bad.any():
        value = series.iloc[_first(bad)]
        rows.fail(column.name, _first(bad), f"{_shown(value)} is not an ISO 8601 timestamp")
    return parsed


def _check_id_lists(
    series: pd.Series, missing: np.ndarray, column: Column, rows: _RowNames
) -> pd.Series:
    out: list[list[str] | None] = []
    for row, value in enumerate(series):
        if missing[row]:
            out.append(None)
            continue
        if not isinstance(value, list | tuple | np.ndarray):
            rows.fail(column.name, row, f"{_shown(value)} is not a list")
        for item in value:
            problem = id_problem(item) if isinstance(item, str) else "is not a string"
            if problem is not None:
                rows.fail(column.name, row, f"item {_shown(item)} {problem}")
        out.append([str(item) for item in value])
    return pd.Series(out, index=series.index, dtype=object)


_Checker = Callable[[pd.Series, np.ndarray, Column, _RowNames], pd.Series]
_CHECKERS: dict[Kind, _Checker] = {
    Kind.ID: _check_strings,
    Kind.TEXT: _check_strings,
    Kind.CHOICE: _check_strings,
    Kind.FLOAT: _check_numbers,
    Kind.INT: _check_numbers,
    Kind.TIMESTAMP: _check_timestamps,
    Kind.ID_LIST: _check_id_lists,
}


def _check_rules(frame: pd.DataFrame, spec: TableSpec, rows: _RowNames) -> None:
    """Unique columns, unique combinations and the distinct pair of columns."""
    for column in spec.columns:
        if column.unique and column.name in frame.columns:
            _check_unique(frame, (column.name,), rows)
    if spec.unique_together and set(spec.unique_together) <= set(frame.columns):
        _check_unique(frame, spec.unique_together, rows)
    if spec.distinct is not None and set(spec.distinct) <= set(frame.columns):
        a, b = spec.distinct
        same = (frame[a] == frame[b]).to_numpy(bool)
        if same.any():
            shown = _shown(frame[a].iloc[_first(same)])
            rows.fail(b, _first(same), f"compares {shown} with itself ({a} = {b})")


def _check_unique(frame: pd.DataFrame, columns: tuple[str, ...], rows: _RowNames) -> None:
    present = frame[list(columns)].notna().all(axis=1).to_numpy()
    duplicated = frame.duplicated(subset=list(columns)).to_numpy() & present
    if duplicated.any():
        row = _first(duplicated)
        key = tuple(frame[c].iloc[row] for c in columns)
        same = (frame[list(columns)] == pd.Series(key, index=list(columns))).all(axis=1)
        shown = _shown(key[0] if len(key) == 1 else key)
        rows.fail("+".join(columns), row, f"{shown} repeats {rows.name(_first(same))}")


def _read_parquet(path: Path, name: str) -> pd.DataFrame:
    try:
        frame: pd.DataFrame = pq.read_table(path).to_pandas()
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise InputError(path, name, f"unreadable Parquet: {_first_line(exc)}") from exc
    return frame


def _read_jsonl(path: Path, name: str) -> tuple[pd.DataFrame, list[int]]:
    """The JSON objects of a JSONL file as rows, and the line number of each."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(path, name, f"unreadable: {exc.strerror or exc}") from exc
    records: list[dict[str, Any]] = []
    lines: list[int] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if raw.strip():
            records.append(_json_object(raw.removeprefix(b"\xef\xbb\xbf"), path, number))
            lines.append(number)
    return (pd.DataFrame.from_records(records) if records else pd.DataFrame()), lines


def _json_object(raw: bytes, path: Path, number: int) -> dict[str, Any]:
    where = f"line {number}"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(path, where, f"not UTF-8 text (byte {exc.start + 1})") from None
    try:
        value = json.loads(text)
    except RecursionError:
        raise InputError(path, where, "invalid JSON: nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, or an integer with too many digits
        message = exc.msg if isinstance(exc, json.JSONDecodeError) else _first_line(exc)
        raise InputError(path, where, f"invalid JSON: {message}") from None
    if not isinstance(value, dict):
        raise InputError(path, where, f"a JSON {type(value).__name__}, not an object")
    return value


def _first_line(exc: BaseException) -> str:
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return text if len(text) <= 200 else text[:200] + "…"

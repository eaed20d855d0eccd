"""The one table reader: a `.parquet` or `.jsonl` table file checked against its `TableSpec`.

`read_table_file` is the one way a stage reads a preferences, annotations, pairs,
assignments or rewards file: a truncated or garbage Parquet, a JSONL line that is not a JSON
object, a missing column, a value of the wrong type or out of range, a null, NaN or inf, a
duplicate id or a hostile one is an `InputError(file, column-or-line, message)`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from robopref.errors import InputError, shown
from robopref.schemas import TableSpec
from robopref.tables.columns import RowNames, check_column, first


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
    rows = RowNames(origin, lines)
    checked = {
        c.name: check_column(out[c.name], c, rows) for c in spec.columns if c.name in out.columns
    }
    out = out.assign(**checked)
    _check_rules(out, spec, rows)
    out.attrs["origin"] = str(origin)
    return out


def _check_rules(frame: pd.DataFrame, spec: TableSpec, rows: RowNames) -> None:
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
            value = shown(frame[a].iloc[first(same)])
            rows.fail(b, first(same), f"compares {value} with itself ({a} = {b})")


def _check_unique(frame: pd.DataFrame, columns: tuple[str, ...], rows: RowNames) -> None:
    present = frame[list(columns)].notna().all(axis=1).to_numpy()
    duplicated = frame.duplicated(subset=list(columns)).to_numpy() & present
    if duplicated.any():
        row = first(duplicated)
        key = tuple(frame[c].iloc[row] for c in columns)
        same = (frame[list(columns)] == pd.Series(key, index=list(columns))).all(axis=1)
        value = shown(key[0] if len(key) == 1 else key)
        rows.fail("+".join(columns), row, f"{value} repeats {rows.name(first(same))}")


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

"""Column checks of the table reader: nulls, types, content and ranges, per `schemas.Kind`."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pandas as pd
import pyarrow as pa

from robopref.errors import InputError, shown
from robopref.schemas import (
    MAX_ID_CHARS,
    MAX_TEXT_CHARS,
    Column,
    Kind,
    id_problem,
    text_problem,
)

_INT64 = 2**63
_SHOWN_CHARS = 60


class RowNames:
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


def first(mask: pd.Series | np.ndarray) -> int:
    """Position of the first True in `mask`."""
    return int(np.argmax(np.asarray(mask)))


def check_column(series: pd.Series, column: Column, rows: RowNames) -> pd.Series:
    """The column's values checked (nulls, type, content, range) and normalised."""
    missing = series.isna().to_numpy()
    if not column.nullable and missing.any():
        rows.fail(column.name, first(missing), "missing value (null or NaN)")
    checker = _CHECKERS[column.kind]
    return checker(series, missing, column, rows)


def _check_strings(
    series: pd.Series, missing: np.ndarray, column: Column, rows: RowNames
) -> pd.Series:
    if not isinstance(series.dtype, pd.StringDtype):
        is_str = np.fromiter((isinstance(v, str) for v in series), bool, len(series))
        bad = ~missing & ~is_str
        if bad.any():
            value = series.iloc[first(bad)]
            rows.fail(column.name, first(bad), f"{shown(value)} is not a string")
    present = series[~missing & _suspects(series, column)]
    for value in pd.unique(present):
        problem = _string_problem(str(value), column)
        if problem is not None:
            row = first((series == value).to_numpy())
            rows.fail(column.name, row, f"{shown(value)} {problem}")
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
    series: pd.Series, missing: np.ndarray, column: Column, rows: RowNames
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
        value = series.iloc[first(bad)]
        rows.fail(column.name, first(bad), f"{shown(value)} is not a number")
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
            rows.fail(column.name, first(mask), f"{shown(series.iloc[first(mask)])} {problem}")
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
    series: pd.Series, missing: np.ndarray, column: Column, rows: RowNames
) -> pd.Series:
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return pd.Series(series.dt.tz_convert("UTC"))
    if pd.api.types.is_datetime64_dtype(series.dtype):
        return pd.Series(series.dt.tz_localize("UTC"))
    kinds = (str, datetime)
    bad = ~missing & ~np.fromiter((isinstance(v, kinds) for v in series), bool, len(series))
    if bad.any():
        value = series.iloc[first(bad)]
        rows.fail(column.name, first(bad), f"{shown(value)} is not a timestamp")
    parsed = pd.to_datetime(
        series.astype(object).where(~missing, None), utc=True, format="ISO8601", errors="coerce"
    )
    bad = ~missing & parsed.isna().to_numpy()
    if bad.any():
        value = series.iloc[first(bad)]
        rows.fail(column.name, first(bad), f"{shown(value)} is not an ISO 8601 timestamp")
    return parsed


def _check_id_lists(
    series: pd.Series, missing: np.ndarray, column: Column, rows: RowNames
) -> pd.Series:
    out: list[list[str] | None] = []
    for row, value in enumerate(series):
        if missing[row]:
            out.append(None)
            continue
        if not isinstance(value, list | tuple | np.ndarray):
            rows.fail(column.name, row, f"{shown(value)} is not a list")
        for item in value:
            problem = id_problem(item) if isinstance(item, str) else "is not a string"
            if problem is not None:
                rows.fail(column.name, row, f"item {shown(item)} {problem}")
        out.append([str(item) for item in value])
    return pd.Series(out, index=series.index, dtype=object)


_Checker = Callable[[pd.Series, np.ndarray, Column, RowNames], pd.Series]
_CHECKERS: dict[Kind, _Checker] = {
    Kind.ID: _check_strings,
    Kind.TEXT: _check_strings,
    Kind.CHOICE: _check_strings,
    Kind.FLOAT: _check_numbers,
    Kind.INT: _check_numbers,
    Kind.TIMESTAMP: _check_timestamps,
    Kind.ID_LIST: _check_id_lists,
}

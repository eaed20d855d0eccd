"""Tables written twice from the same rows: Parquet for tools, JSON Lines for people and greps."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

import pyarrow as pa
import pyarrow.parquet as pq

from robopref.atomic import write_atomic, write_text_atomic


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

"""Reading JSON and JSON Lines files that people or other runs wrote: one set of checks.

Every JSON file robopref reads (pool.json, meta.json, info.json, sidecars, checkpoint
config.json and split.json, reports) comes through here, so a missing, unreadable,
non-UTF-8, malformed or duplicate-key file is always an `InputError(file, field, ...)`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from robopref.errors import InputError, shown


def parse_json(text: str | bytes, *, path: str | Path, field: str) -> Any:
    """Parse JSON, refusing duplicate keys (NaN/Infinity parse; typed readers refuse them).

    Raises:
        InputError: Not valid JSON (or not UTF-8), or a key given twice.

    >>> parse_json('{"a": 1, "a": 2}', path="x.json", field="x.json")
    Traceback (most recent call last):
    robopref.errors.InputError: x.json: x.json: not valid JSON: key 'a' appears twice
    """
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError too
        raise InputError(path, field, f"not valid JSON: {exc}") from exc


def read_json(path: Path, *, field: str | None = None, missing: str | None = None) -> Any:
    """Read and parse a JSON file (`parse_json`); `field` defaults to the file's name.

    Args:
        path: The file.
        field: The field named in errors about the file as a whole.
        missing: The message for a file that does not exist (default: "missing").

    Raises:
        InputError: Missing, unreadable, or not valid JSON.
    """
    field = field or path.name
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise InputError(path, field, missing or "missing") from exc
    except OSError as exc:
        raise InputError(path, field, f"unreadable: {exc.strerror or exc}") from exc
    return parse_json(data, path=path, field=field)


def read_json_object(
    path: Path, *, field: str | None = None, missing: str | None = None
) -> dict[str, Any]:
    """A JSON file holding one object (`read_json`; `null` or any other value is refused).

    Raises:
        InputError: Missing, unreadable, not valid JSON, or not an object.
    """
    field = field or path.name
    value = read_json(path, field=field, missing=missing)
    if not isinstance(value, dict):
        raise InputError(path, field, f"must be a JSON object, got {shown(value)}")
    return value


def as_object(value: object, *, path: str | Path, field: str) -> dict[str, Any]:
    """A JSON object (dict with text keys); an absent value (None) is an empty one.

    Raises:
        InputError: Not an object.
    """
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise InputError(path, field, f"must be a JSON object, got {shown(value)}")
    return dict(value)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The objects of a JSON Lines file, one per non-blank line.

    Raises:
        InputError: Unreadable, a line that is not valid JSON, or not an object.
    """
    try:
        lines = path.read_bytes().splitlines()
    except OSError as exc:
        raise InputError(path, path.name, f"unreadable: {exc.strerror or exc}") from exc
    rows = []
    for number, line in enumerate(lines, start=1):
        if line.strip():
            field = f"line {number}"
            rows.append(as_object(parse_json(line, path=path, field=field), path=path, field=field))
    return rows


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"key {key!r} appears twice")
        result[key] = value
    return result

"""Text entering the store, checked once so that SQLite and PostgreSQL accept the same values.

PostgreSQL refuses NUL (U+0000) in text where SQLite stores it; neither can store a lone
surrogate (not UTF-8), and PostgreSQL enforces `VARCHAR(n)` lengths that SQLite ignores. So
every text value that enters the store (ids, labels, free text, rubric answers), and every id
a lookup sends, is checked here first against the rules of `robopref.schemas`
(`id_problem`, `text_problem`): the same `InputError`, naming the field, on both backends.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from robopref import errors
from robopref.errors import InputError
from robopref.schemas import MAX_ID_CHARS, MAX_TEXT_CHARS, id_problem, text_problem

if TYPE_CHECKING:
    from robopref.store.models import Base


def shown(value: object) -> str:
    r"""`value` as it can appear in a message: itself if an acceptable id, else a short repr.

    >>> shown("ann-1"), shown("a\x00b")
    ('ann-1', "'a\\x00b'")
    """
    if isinstance(value, str) and id_problem(value) is None:
        return value
    return errors.shown(value)


def check_id(value: object, *, where: str, field: str, max_chars: int = MAX_ID_CHARS) -> str:
    """`value` if it is an acceptable id of at most `max_chars` characters.

    Raises:
        InputError: `InputError(where, field, ...)` saying what is wrong.
    """
    if not isinstance(value, str):
        raise InputError(where, field, f"must be a string, got {type(value).__name__}")
    problem = id_problem(value)
    if problem is None and len(value) > max_chars:
        problem = f"has {len(value)} characters; at most {max_chars}"
    if problem is not None:
        raise InputError(where, field, f"{shown(value)} {problem}")
    return value


def check_ids(where: str, **values: str | None) -> None:
    """`check_id` for each named value that is not None (the ids a lookup sends)."""
    for field, value in values.items():
        if value is not None:
            check_id(value, where=where, field=field)


def check_text(
    value: object, *, where: str, field: str, max_chars: int = MAX_TEXT_CHARS
) -> str | None:
    """`value` if it is None or acceptable free text of at most `max_chars` characters.

    Raises:
        InputError: `InputError(where, field, ...)` saying what is wrong.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(where, field, f"must be text, got {type(value).__name__}")
    problem = text_problem(value, max_chars=max_chars)
    if problem is not None:
        raise InputError(where, field, f"{shown(value)} {problem}")
    return value


def check_json_text(value: Any, *, where: str, field: str) -> None:
    """Every string inside a JSON value (keys included) is acceptable free text."""
    if isinstance(value, str):
        check_text(value, where=where, field=field)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            check_text(str(key), where=where, field=field)
            check_json_text(item, where=where, field=field)
    elif isinstance(value, list | tuple):
        for item in value:
            check_json_text(item, where=where, field=field)


def check_row(model: type[Base], row: Mapping[str, Any], *, where: str) -> None:
    """Check each text value of a row of `model` against its column.

    `String(n)` columns hold ids and labels (`check_id`, at most n characters); `Text`
    columns free text (`check_text`). Other columns and None values are left alone.

    Raises:
        InputError: Naming `where` and the column.
    """
    from sqlalchemy import String, Text  # not at import: records.py must stay light

    columns = model.__table__.columns
    for name, value in row.items():
        if value is None or name not in columns:
            continue
        kind = columns[name].type
        if isinstance(kind, Text):
            check_text(value, where=where, field=name)
        elif isinstance(kind, String):
            check_id(value, where=where, field=name, max_chars=kind.length or MAX_ID_CHARS)

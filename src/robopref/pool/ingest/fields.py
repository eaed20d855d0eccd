"""Typed readers for the raw fields importers read (JSON, HDF5 attributes, parquet cells).

Each importer reads a source's metadata through these, where it reads it: a value of the
wrong type, out of range, not finite, or text that no file or database can hold is refused
with an `InputError` naming the file and field, so nothing downstream sees it.

>>> read_fps(10, path="info.json", field="fps")
10.0
>>> read_fps("ten", path="info.json", field="fps")
Traceback (most recent call last):
...
robopref.errors.InputError: info.json: fps: must be a number, got 'ten'
"""

from __future__ import annotations

import math
import numbers
import unicodedata
from pathlib import Path

import numpy as np

from robopref.errors import InputError, shown

MAX_FPS = 10_000.0
"""Highest frame rate accepted (Hz); anything above is a corrupt or mistyped value."""
MAX_TEXT_CHARS = 10_000
"""Longest text field (task instruction, labels) accepted."""
MAX_INDEX = 2**53
"""Largest integer field (episode index, length, chunk) accepted: exact as a float."""
_ALLOWED_CONTROLS = frozenset("\t\n\r")


def scalar(value: object) -> object:
    """A numpy scalar or one-element array (as HDF5 attributes hold them) as a Python value.

    >>> scalar(np.array([3])), scalar(np.float32(1.5)), scalar(b"x")
    (3, 1.5, b'x')
    """
    if isinstance(value, np.ndarray) and value.size == 1 and value.dtype.kind in "biufSUb":
        value = value.reshape(()).item()
    elif isinstance(value, np.generic):
        value = value.item()
    return value


def read_number(
    value: object,
    *,
    path: str | Path,
    field: str,
    minimum: float | None = None,
    above: float | None = None,
    maximum: float | None = None,
) -> float:
    """A finite real number (not a bool) within the given bounds.

    Raises:
        InputError: Missing, not a number, NaN or infinite, or out of range.
    """
    value = scalar(value)
    if value is None:
        raise InputError(path, field, "missing (null)")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(path, field, f"must be a number, got {shown(value)}")
    number = float(value)
    if not math.isfinite(number):
        raise InputError(path, field, f"must be finite, got {number}")
    if minimum is not None and number < minimum:
        raise InputError(path, field, f"must be >= {minimum:g}, got {number:g}")
    if above is not None and number <= above:
        raise InputError(path, field, f"must be > {above:g}, got {number:g}")
    if maximum is not None and number > maximum:
        raise InputError(path, field, f"must be <= {maximum:g}, got {number:g}")
    return number


def read_fps(value: object, *, path: str | Path, field: str) -> float:
    """A frame rate in Hz: a number in (0, MAX_FPS].

    Raises:
        InputError: Not such a number.
    """
    return read_number(value, path=path, field=field, above=0.0, maximum=MAX_FPS)


def read_int(
    value: object, *, path: str | Path, field: str, minimum: int = 0, maximum: int = MAX_INDEX
) -> int:
    """An integer (or an integral float, as JSON and pandas may write one) in [minimum, maximum].

    >>> read_int(8.0, path="e.parquet", field="length")
    8

    Raises:
        InputError: Not an integer, or out of range.
    """
    number = read_number(value, path=path, field=field)
    if not number.is_integer():
        raise InputError(path, field, f"must be an integer, got {number:g}")
    if number < minimum:
        raise InputError(path, field, f"must be >= {minimum}, got {number:g}")
    if number > maximum:
        raise InputError(path, field, f"must be <= {maximum}, got {number:g}")
    return int(number)


def read_text(
    value: object, *, path: str | Path, field: str, max_chars: int = MAX_TEXT_CHARS
) -> str | None:
    """Text (str, or UTF-8 bytes), or None if missing or empty.

    Refused: other types, invalid UTF-8, lone surrogates, control characters other than tab
    and line breaks (a NUL is refused by PostgreSQL, a surrogate by every UTF-8 writer), and
    text longer than `max_chars`.

    Raises:
        InputError: Naming the field and what is wrong with the value.
    """
    value = scalar(value)
    if value is None:
        return None
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(path, field, f"is not UTF-8 text: {exc}") from exc
    if not isinstance(value, str):
        raise InputError(path, field, f"must be text, got {type(value).__name__} {shown(value)}")
    if len(value) > max_chars:
        raise InputError(path, field, f"is {len(value)} characters long (at most {max_chars})")
    bad = next((c for c in value if _is_forbidden(c)), None)
    if bad is not None:
        raise InputError(path, field, f"contains the character {bad!r}, which is not allowed")
    return value or None


def _is_forbidden(char: str) -> bool:
    category = unicodedata.category(char)
    return (category == "Cc" and char not in _ALLOWED_CONTROLS) or category == "Cs"


def read_flag(value: object, *, path: str | Path, field: str) -> bool | None:
    """A success flag: bool, 0/1, or "true"/"false" (and yes/no, success/failure); None if null.

    Raises:
        InputError: Any other value.
    """
    value = scalar(value)
    if isinstance(value, bytes):
        value = read_text(value, path=path, field=field)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "1", "yes", "success"):
            return True
        if lowered in ("false", "0", "no", "failure", "fail"):
            return False
    elif isinstance(value, numbers.Real) and value in (0, 1):
        return bool(value)
    raise InputError(path, field, f"cannot read {shown(value)} as success (true/false, 1/0)")


def read_names(value: object, *, path: str | Path, field: str) -> list[str] | None:
    """A list of names (each non-empty text), or None if missing.

    Raises:
        InputError: Not a list, or an entry that is not text.
    """
    if value is None:
        return None
    if not isinstance(value, list | tuple):
        raise InputError(path, field, f"must be a list of names, got {shown(value)}")
    names = []
    for i, item in enumerate(value):
        name = read_text(item, path=path, field=f"{field}[{i}]", max_chars=1000)
        if name is None:
            raise InputError(path, f"{field}[{i}]", "must be a non-empty name")
        names.append(name)
    return names

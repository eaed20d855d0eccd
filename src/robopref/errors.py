"""Errors that name the file and field at fault; the CLI maps InputError to exit code 2."""

from __future__ import annotations

from pathlib import Path
from typing import Any


class InputError(Exception):
    """Bad user input: a file, folder or record that does not meet the contract.

    Args:
        path: The file or folder (or record id) the problem is in.
        field: The column, key or option at fault.
        message: What is wrong and, where possible, what would be right.
    """

    def __init__(self, path: str | Path, field: str, message: str) -> None:
        self.path = str(path)
        self.field = field
        self.message = message
        super().__init__(f"{self.path}: {field}: {message}")

    def __reduce__(self) -> tuple[type[InputError], tuple[str, str, str]]:
        """Rebuilt from its three parts, so it crosses process boundaries (worker pools, Ray)."""
        return (type(self), (self.path, self.field, self.message))


def shown(value: Any, limit: int = 60) -> str:
    r"""`value` quoted for an error message: its repr (control characters escaped), shortened.

    >>> print(shown("a\x00b"), shown("y" * 200)[-11:])
    'a\x00b' (202 chars)
    """
    if hasattr(value, "tolist") and callable(value.tolist):  # numpy arrays and scalars
        value = value.tolist()
    try:
        text = repr(value)
    except ValueError:  # an integer with more digits than Python will print
        return "a huge integer"
    if len(text) <= limit:
        return text
    head = max(limit - 15, 10)
    return f"{text[:head]}…{text[-10:]} ({len(text)} chars)"

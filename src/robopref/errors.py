"""Errors that name the file and field at fault; the CLI maps InputError to exit code 2."""

from __future__ import annotations

from pathlib import Path


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

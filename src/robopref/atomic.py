"""Putting finished files and folders in place with renames, so readers never see half of one."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path


def write_atomic(path: Path, write: Callable[[Path], object]) -> Path:
    """Have `write(tmp)` write a temporary sibling of `path`, then rename it to `path`.

    Readers see the old file or the whole new one, never part of it; the temporary file is
    removed if writing fails. The parent folder is created if needed.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_text_atomic(path: Path, text: str) -> Path:
    """Write UTF-8 `text` to `path` atomically (see `write_atomic`)."""
    return write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def swap_in(staged: Path, target: Path) -> None:
    """Move a fully written `staged` file or folder to `target`, replacing any old one.

    With no old target this is one rename. Otherwise the old one is renamed aside first, the
    new one renamed in, and the old one removed: at every moment `target` is either the
    complete old version, the complete new one, or (between the two renames) absent.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        os.replace(staged, target)
        return
    old = target.with_name(f".{target.name}.{uuid.uuid4().hex}.old")
    os.replace(target, old)
    os.replace(staged, target)
    if old.is_dir():
        shutil.rmtree(old, ignore_errors=True)
    else:
        old.unlink(missing_ok=True)

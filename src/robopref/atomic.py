"""Putting finished files and folders in place with renames, so readers never see half of one."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path


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

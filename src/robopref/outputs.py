"""The one rule for output folders: robopref never replaces or fills a folder it did not create.

A verb that writes a folder (`--out DIR`, a pool) may use DIR only if it is

- absent (it is created),
- an empty folder, or
- an earlier output of the same kind, recognised by the marker file `.robopref-output.json`
  that every such verb writes into its folder (or, for folders written before the marker
  existed, by a recogniser the verb passes in).

Anything else — a file, another verb's output, a folder of notes, the input pool — is refused
with exit code 2 and a message saying how to proceed. robopref itself never deletes it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from robopref.atomic import write_text_atomic
from robopref.errors import InputError

MARKER = ".robopref-output.json"
"""Written into every output folder: {"kind": ..., "robopref_version": ..., "created_at": ...}."""


def output_kind(folder: Path) -> str | None:
    """The kind recorded in `folder`'s marker, or None if it has no readable marker."""
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    kind = data.get("kind") if isinstance(data, dict) else None
    return kind if isinstance(kind, str) else None


def check_output_dir(
    out: Path,
    kind: str,
    *,
    option: str = "--out",
    recognise: Callable[[Path], bool] | None = None,
) -> None:
    """Refuse `out` unless it is absent, an empty folder, or an earlier output of `kind`.

    Args:
        out: The folder a verb is about to write.
        kind: What the verb writes (`model`, `validation`, `pool`, ...).
        option: The command-line option or argument that named `out` (for the message).
        recognise: Optional test for an earlier output of `kind` written without a marker.

    Raises:
        InputError: `out` is a file, a symlink to elsewhere, another verb's output, or a
            folder with other content.
    """
    if out.is_symlink():
        raise InputError(out, option, f"is a symbolic link; {_advice(option)}")
    if not out.exists():
        return
    if not out.is_dir():
        raise InputError(out, option, f"is a file, not a folder; {_advice(option)}")
    found = output_kind(out)
    if found == kind or (found is None and recognise is not None and recognise(out)):
        return
    if not any(out.iterdir()):
        return
    what = (
        f"holds a robopref {found} output, not a {kind}"
        if found
        else f"is not empty and was not written by robopref as a {kind}"
    )
    raise InputError(out, option, f"{what}; {_advice(option)}")


def mark_output_dir(folder: Path, kind: str) -> None:
    """Write the marker that makes `folder` an output of `kind` (kept if already there)."""
    from robopref import __version__

    if output_kind(folder) == kind:
        return
    folder.mkdir(parents=True, exist_ok=True)
    record = {
        "kind": kind,
        "robopref_version": __version__,
        "created_at": datetime.now(UTC).isoformat(),
    }
    write_text_atomic(folder / MARKER, json.dumps(record, indent=1) + "\n")


def claim_output_dir(
    out: Path,
    kind: str,
    *,
    option: str = "--out",
    recognise: Callable[[Path], bool] | None = None,
) -> Path:
    """`check_output_dir`, then create `out` if needed and mark it as an output of `kind`."""
    check_output_dir(out, kind, option=option, recognise=recognise)
    mark_output_dir(out, kind)
    return out


def _advice(option: str) -> str:
    return (
        f"robopref never replaces a folder it did not create: choose a new {option}, or remove"
        " that folder yourself if you mean to replace it"
    )

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

import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

from robopref.atomic import swap_in, write_text_atomic
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


@contextmanager
def output_folder(
    out: Path,
    kind: str,
    *,
    option: str = "--out",
    recognise: Callable[[Path], bool] | None = None,
) -> Iterator[Path]:
    """Write a whole output folder in a staging sibling, then swap it in as `out`.

    `out` is checked first (`check_output_dir`), so a refused run writes nothing. The body
    writes into the yielded staging folder; on success it is marked as `kind` and renamed to
    `out` (replacing an earlier output of `kind`); on any failure, or a kill, `out` is as it
    was. Leftovers of a killed earlier run beside `out` are removed first.

        with output_folder(Path("model"), "model") as folder:
            save(folder)
    """
    check_output_dir(out, kind, option=option, recognise=recognise)
    parent = out.parent
    made = missing_folders(parent)
    parent.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(parent, f".{out.name}.")
    staged = parent / f".{out.name}.{uuid.uuid4().hex}.partial"
    ok = False
    try:
        with held_staging(staged):
            yield staged
            mark_output_dir(staged, kind)
            check_output_dir(out, kind, option=option, recognise=recognise)
            (staged / STAGING_LOCK).unlink(missing_ok=True)
            swap_in(staged, out)
            ok = True
    finally:
        shutil.rmtree(staged, ignore_errors=True)
        if not ok:
            remove_empty_folders(made)


@contextmanager
def output_dir(
    out: Path,
    kind: str,
    *,
    option: str = "--out",
    recognise: Callable[[Path], bool] | None = None,
) -> Iterator[Path]:
    """Use `out` as a folder of outputs that the body adds to (e.g. one release per version).

    `out` is checked first (`check_output_dir`) and created if absent; on success it is
    marked as `kind`. If the body fails, folders this run created are removed again when
    the body left them empty, so a refused run leaves nothing behind. The body should still
    put each of its own outputs in place with a rename (`output_folder`, `atomic.swap_in`).
    """
    check_output_dir(out, kind, option=option, recognise=recognise)
    made = missing_folders(out)
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(out)
    ok = False
    try:
        yield out
        mark_output_dir(out, kind)
        ok = True
    finally:
        if not ok:
            remove_empty_folders(made)


STAGING_LOCK = ".robopref-staging.lock"
"""Lock file inside a staging folder, held (flock) by the process writing it."""


@contextmanager
def held_staging(folder: Path) -> Iterator[Path]:
    """Create `folder` and hold its lock while the body writes it.

    `remove_stale_staging` removes only staging folders whose lock nobody holds, so a killed
    run's leftovers are cleared by the next run while a concurrent live run is left alone.
    """
    folder.mkdir(parents=True)
    handle = os.open(folder / STAGING_LOCK, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield folder
    finally:
        os.close(handle)


def remove_stale_staging(parent: Path, prefix: str = "") -> list[Path]:
    """Remove leftovers of killed runs in `parent` whose names start with `prefix`.

    Leftovers are staging folders (`*.partial`, or any folder holding a STAGING_LOCK) that no
    live process holds, and `*.old` / `*.tmp` entries that a killed swap or write left.
    Returns what was removed.
    """
    removed: list[Path] = []
    if not parent.is_dir():
        return removed
    for entry in parent.iterdir():
        if not entry.name.startswith(prefix) or entry.is_symlink():
            continue
        if _is_leftover_file(entry) or (_is_staging(entry) and not _is_held(entry / STAGING_LOCK)):
            remove_entry(entry)
            removed.append(entry)
    return removed


def _is_leftover_file(entry: Path) -> bool:
    """A swap's renamed-aside old version, or a temporary file of a killed atomic write."""
    name = entry.name
    return name.startswith(".") and (
        name.endswith(".old") or (name.endswith(".tmp") and not entry.is_dir())
    )


def _is_staging(entry: Path) -> bool:
    return entry.is_dir() and (entry.name.endswith(".partial") or (entry / STAGING_LOCK).exists())


def _is_held(lock: Path) -> bool:
    try:
        handle = os.open(lock, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(handle)
    return False


def remove_entry(entry: Path) -> None:
    """Remove a file, a link or a folder tree (not following links), ignoring errors."""
    if entry.is_dir() and not entry.is_symlink():
        shutil.rmtree(entry, ignore_errors=True)
    else:
        entry.unlink(missing_ok=True)


def missing_folders(path: Path) -> list[Path]:
    """`path` and those of its parents that do not exist yet, innermost first.

    What a run is about to create, so that a failed run can remove it again
    (`remove_empty_folders`).
    """
    return [p for p in (path, *path.parents) if not p.exists()]


def remove_empty_folders(folders: list[Path]) -> None:
    """`remove_if_empty` for each folder, in order (innermost first, as `missing_folders`)."""
    for folder in folders:
        remove_if_empty(folder)


def remove_if_empty(folder: Path) -> None:
    """Remove `folder` if it is an empty folder; anything else is left as it is."""
    with suppress(OSError):
        folder.rmdir()


def _advice(option: str) -> str:
    return (
        f"robopref never replaces a folder it did not create: choose a new {option}, or remove"
        " that folder yourself if you mean to replace it"
    )

"""Checksums and the versioned archive: `SHA256SUMS`, a reproducible tar.gz, atomic placement."""

from __future__ import annotations

import gzip
import hashlib
import tarfile
from pathlib import Path

from robopref.atomic import swap_in
from robopref.errors import InputError

CHECKSUMS_FILE = "SHA256SUMS"


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def release_files(folder: Path) -> list[str]:
    """Every file under `folder` (relative POSIX paths, sorted), SHA256SUMS excluded."""
    return sorted(
        p.relative_to(folder).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.name != CHECKSUMS_FILE
    )


def write_checksums(folder: Path) -> dict[str, str]:
    """Write `folder/SHA256SUMS` (`sha256sum -c` format) and return path → digest."""
    sums = {name: sha256_file(folder / name) for name in release_files(folder)}
    text = "".join(f"{digest}  {name}\n" for name, digest in sums.items())
    (folder / CHECKSUMS_FILE).write_text(text, encoding="utf-8")
    return sums


def verify_checksums(folder: Path) -> list[str]:
    """Files whose digest differs from SHA256SUMS, or that are missing or unlisted.

    Raises:
        InputError: SHA256SUMS is missing or malformed.
    """
    path = folder / CHECKSUMS_FILE
    if not path.is_file():
        raise InputError(path, CHECKSUMS_FILE, "missing")
    listed: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        digest, sep, name = line.partition("  ")
        if not sep or len(digest) != 64:
            raise InputError(path, f"line {number}", "expected '<sha256>  <file>'")
        listed[name] = digest
    problems = [n for n, d in listed.items() if not (folder / n).is_file()]
    problems += [
        n for n, d in listed.items() if (folder / n).is_file() and sha256_file(folder / n) != d
    ]
    problems += [n for n in release_files(folder) if n not in listed]
    return sorted(set(problems))


def _normalised(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.mtime = 0
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mode = 0o755 if info.isdir() else 0o644
    return info


def write_archive(folder: Path, path: Path) -> Path:
    """A reproducible `.tar.gz` of `folder` (sorted entries, zero times and owners).

    The archive's top-level folder is `folder.name`; the same files give the same bytes.
    """
    with (
        open(path, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        tar.add(folder, arcname=folder.name, recursive=False, filter=_normalised)
        for entry in sorted(folder.rglob("*"), key=lambda p: p.relative_to(folder).as_posix()):
            arcname = f"{folder.name}/{entry.relative_to(folder).as_posix()}"
            tar.add(entry, arcname=arcname, recursive=False, filter=_normalised)
    return path


def place(staged: Path, target: Path, *, overwrite: bool) -> None:
    """Move a staged folder or file to `target` with one rename (swapping out an old one).

    Raises:
        InputError: `target` exists and `overwrite` is False.
    """
    if target.exists() and not overwrite:
        raise InputError(target, "version", "this release exists; bump the version or overwrite")
    swap_in(staged, target)

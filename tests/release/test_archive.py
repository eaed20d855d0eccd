"""Checksums and the reproducible archive."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import pytest

from robopref.errors import InputError
from robopref.release import verify_checksums, write_archive, write_checksums
from robopref.release.archive import place, sha256_file


def _folder(root: Path) -> Path:
    folder = root / "robopref-release-x-1"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("alpha")
    (folder / "sub" / "b.bin").write_bytes(bytes(range(256)))
    return folder


def test_checksums_match_sha256sum_format(tmp_path: Path) -> None:
    import hashlib

    folder = _folder(tmp_path)
    sums = write_checksums(folder)
    assert sums["a.txt"] == hashlib.sha256(b"alpha").hexdigest()
    text = (folder / "SHA256SUMS").read_text().splitlines()
    assert text == [f"{sums['a.txt']}  a.txt", f"{sums['sub/b.bin']}  sub/b.bin"]
    assert verify_checksums(folder) == []


def test_archive_bytes_do_not_depend_on_file_times(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    first = write_archive(folder, tmp_path / "one.tar.gz")
    os.utime(folder / "a.txt", (1_000_000, 1_000_000))
    second = write_archive(folder, tmp_path / "two.tar.gz")
    assert sha256_file(first) == sha256_file(second)
    with tarfile.open(first) as tar:
        members = tar.getmembers()
    assert [m.name for m in members] == [
        "robopref-release-x-1",
        "robopref-release-x-1/a.txt",
        "robopref-release-x-1/sub",
        "robopref-release-x-1/sub/b.bin",
    ]
    assert all(m.mtime == 0 and m.uid == 0 for m in members)


def test_verify_reports_malformed_sums(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    with pytest.raises(InputError, match="SHA256SUMS"):
        verify_checksums(folder)
    (folder / "SHA256SUMS").write_text("deadbeef a.txt\n")
    with pytest.raises(InputError) as info:
        verify_checksums(folder)
    assert info.value.field == "line 1"


def test_place_refuses_to_overwrite_unless_asked(tmp_path: Path) -> None:
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "f").write_text("new")
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "f").write_text("old")
    with pytest.raises(InputError):
        place(tmp_path / "new", tmp_path / "old", overwrite=False)
    place(tmp_path / "new", tmp_path / "old", overwrite=True)
    assert (tmp_path / "old" / "f").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old"]

"""Reading one `.npz` archive safely: every member a plain `.npy` array whose header fits its data.

`np.load` alone trusts the archive: a member that is not an array comes back as bytes, a
header may declare terabytes (numpy allocates them before reading), a `.npy` file renamed
`.npz` loads as an array, and a corrupt member fails with zlib or zipfile errors. Here each
of those is an `InputError` naming the file and the member.
"""

from __future__ import annotations

import math
import zipfile
import zlib
from pathlib import Path
from typing import IO

import numpy as np

from robopref.errors import InputError

NPY_SUFFIX = ".npy"
ARCHIVE_ERRORS = (
    OSError,
    EOFError,
    ValueError,
    zipfile.BadZipFile,
    zlib.error,
    NotImplementedError,
    RuntimeError,
)
"""What zipfile and numpy raise on a corrupt archive: truncated or zeroed data (BadZipFile,
EOFError, zlib.error, ValueError for a bad `.npy` header), an unsupported compression method
(NotImplementedError), an encrypted member (RuntimeError), an unreadable file (OSError)."""


def load_npz(path: Path) -> dict[str, np.ndarray]:
    """The arrays of the archive at `path`, by key (member name without `.npy`).

    Raises:
        InputError: Not a zip archive, unreadable, a member that is not a `.npy` array, a
            duplicate member, an object (pickled) array, or a header larger than its data.
    """
    if not path.is_file():
        raise InputError(path, "npz", "is not a file")
    try:
        is_zip = zipfile.is_zipfile(path)
    except OSError as exc:
        raise InputError(path, "npz", f"unreadable: {exc}") from exc
    if not is_zip:
        raise InputError(path, "npz", "not an NPZ archive (a zip of .npy arrays), or truncated")
    try:
        with zipfile.ZipFile(path) as archive:
            _check_members(path, archive)
        with np.load(path, allow_pickle=False) as npz:
            return {key: npz[key] for key in npz.files}
    except ARCHIVE_ERRORS as exc:
        raise InputError(path, "npz", f"unreadable: {exc}") from exc


def _check_members(path: Path, archive: zipfile.ZipFile) -> None:
    seen: set[str] = set()
    for info in archive.infolist():
        key = info.filename.removesuffix(NPY_SUFFIX)
        if not info.filename.endswith(NPY_SUFFIX) or info.is_dir():
            raise InputError(path, key, "archive member is not a .npy array")
        if key in seen:
            raise InputError(path, key, "appears twice in the archive")
        seen.add(key)
        try:
            with archive.open(info) as member:
                _check_header(path, key, member, info.file_size)
        except ARCHIVE_ERRORS as exc:
            raise InputError(path, key, f"unreadable array: {exc}") from exc


def _check_header(path: Path, key: str, member: IO[bytes], size: int) -> None:
    """Refuse object arrays and headers that declare more data than the member holds."""
    version = np.lib.format.read_magic(member)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(member)
    elif version == (2, 0):
        shape, _, dtype = np.lib.format.read_array_header_2_0(member)
    else:
        return  # newer header versions: np.load checks them itself
    if dtype.hasobject:
        raise InputError(path, key, "holds Python objects (pickle), which are never loaded")
    declared = math.prod(shape) * dtype.itemsize
    if declared > size:
        raise InputError(
            path, key, f"header declares {shape} {dtype} ({declared} bytes) in {size} bytes"
        )

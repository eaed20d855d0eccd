"""An episode's rows of a LeRobot data parquet file, as numpy arrays checked column by column.

The data file (v3: shared by many episodes) is read once and kept while episodes of it are
read. Every problem with it — truncated, an index column of the wrong type, a column that
does not convert, an image cell that is not a PNG — is an InputError about the episode.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from PIL import Image

from robopref.errors import InputError
from robopref.pool.ingest.arrays import as_frames
from robopref.pool.ingest.lerobot_layout import EpisodeSpec
from robopref.pool.ingest.lerobot_meta import PARQUET_ERRORS

REQUIRED = ("observation.state", "action", "timestamp", "episode_index")
"""Columns every data file must have."""
IMAGE_ERRORS = (OSError, ValueError, SyntaxError, Image.DecompressionBombError)
"""What PIL raises on bytes that are not a (complete, sane) image."""


class DataFiles:
    """Reads the rows of episodes from their data parquet files, keeping the last file.

    Args:
        image_keys: Features stored as PNG bytes in the data (decoded to frames).
    """

    def __init__(self, image_keys: list[str]) -> None:
        self.image_keys = set(image_keys)
        self._table: tuple[Path, pa.Table] | None = None

    def rows(self, spec: EpisodeSpec) -> dict[str, np.ndarray]:
        """Column → (T, ...) array of the episode's rows, in `frame_index` order.

        Raises:
            InputError: The file is unreadable, lacks a required column, holds another
                number of rows for the episode than its metadata says, or a column does
                not convert.
        """
        where = f"{spec.data_file} (episode {spec.index})"
        table = _episode_rows(self._read(spec.data_file), spec, where)
        if table.num_rows != spec.length:
            raise InputError(
                where,
                "length",
                f"data has {table.num_rows} rows but the episode metadata says {spec.length}",
            )
        out = {}
        for name in table.column_names:
            column = table.column(name)
            out[name] = (
                _images(column, where, name, spec.length)
                if name in self.image_keys
                else _column(column, where, name)
            )
        return out

    def close(self) -> None:
        """Forget the cached file."""
        self._table = None

    def _read(self, path: Path) -> pa.Table:
        if self._table is None or self._table[0] != path:
            self._table = None
            if not path.is_file():
                raise InputError(path, "data", "file missing")
            try:
                self._table = (path, pq.read_table(path))
            except PARQUET_ERRORS as exc:
                raise InputError(path, "data", f"unreadable parquet: {exc}") from exc
        return self._table[1]


def _episode_rows(table: pa.Table, spec: EpisodeSpec, where: str) -> pa.Table:
    """The rows of `table` with the episode's index, sorted by `frame_index` if present."""
    for column in REQUIRED:
        if column not in table.column_names:
            raise InputError(spec.data_file, column, "column missing")
    for column in ("episode_index", "frame_index"):
        if column in table.column_names and not pa.types.is_integer(
            table.schema.field(column).type
        ):
            raise InputError(
                spec.data_file, column, f"must be integers, got {table.schema.field(column).type}"
            )
    try:
        table = table.filter(pc.equal(table["episode_index"], spec.index))
        return table.sort_by("frame_index") if "frame_index" in table.column_names else table
    except PARQUET_ERRORS as exc:
        raise InputError(
            where, "episode_index", f"cannot select the episode's rows: {exc}"
        ) from exc


def _column(column: pa.ChunkedArray, where: str, name: str) -> np.ndarray:
    """A parquet column as a numpy array; fixed or equal-length lists become (T, D).

    Nested lists and structs are not per-step vectors robopref uses: they become (T, 0).

    Raises:
        InputError: Missing values, lists of different lengths, or a column pyarrow cannot
            convert.
    """
    try:
        array = column.combine_chunks()
        if array.null_count:
            raise InputError(where, name, f"{array.null_count} missing values")
        if _is_list(array.type):
            lengths = pc.list_value_length(array).to_numpy(zero_copy_only=False)
            if len(lengths) and (lengths != lengths[0]).any():
                raise InputError(where, name, "rows have different lengths")
            flat = array.flatten()
            if pa.types.is_nested(flat.type) or len(flat) == 0:
                return np.zeros((len(array), 0))
            return np.asarray(flat.to_numpy(zero_copy_only=False)).reshape(len(array), -1)
        if pa.types.is_nested(array.type):
            return np.zeros((len(array), 0))
        return np.asarray(array.to_numpy(zero_copy_only=False))
    except PARQUET_ERRORS as exc:
        raise InputError(where, name, f"cannot convert the column: {exc}") from exc


def _is_list(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_list(kind) or pa.types.is_fixed_size_list(kind) or pa.types.is_large_list(kind)
    )


def _images(column: pa.ChunkedArray, where: str, name: str, n: int) -> np.ndarray:
    """(T, H, W, 3) uint8 from a LeRobot image column (struct of PNG `bytes` and `path`).

    Raises:
        InputError: A cell without image bytes, bytes PIL cannot decode, or frames of
            different sizes.
    """
    frames = []
    for i, cell in enumerate(column.to_pylist()):
        data = cell.get("bytes") if isinstance(cell, dict) else None
        if not isinstance(data, bytes) or not data:
            raise InputError(where, name, f"frame {i} has no image bytes")
        try:
            with Image.open(io.BytesIO(data)) as image:
                frames.append(np.asarray(image.convert("RGB")))
        except IMAGE_ERRORS as exc:
            raise InputError(where, name, f"frame {i} unreadable: {exc}") from exc
        if frames[-1].shape != frames[0].shape:
            raise InputError(
                where, name, f"frame {i} is {frames[-1].shape}, frame 0 {frames[0].shape}"
            )
    if not frames:
        raise InputError(where, name, "no frames")
    return as_frames(np.stack(frames), where=where, field=name, n=n)

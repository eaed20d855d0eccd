"""`manifest.parquet`: its rows, and one check of every column against MANIFEST_SCHEMA.

`read_manifest` is the one place a manifest enters robopref (`open_pool` reads through it,
and commits check what they are about to write with `check_manifest`), so every verb that
opens a pool refuses a malformed one the same way: `InputError(manifest, column, message)`.

The checks are vectorised (pyarrow compute / numpy over whole columns), so opening a pool of
100k trajectories stays a matter of milliseconds:

- the file is a readable, uncorrupted Parquet file;
- every schema column is present once, with a type that casts losslessly to the schema's
  (an int64 `n_steps` is accepted and narrowed; a string `n_steps` is refused);
- no nulls in non-nullable columns, no NaN or infinity where a number is required;
- counts, rates and fractions in range (`n_steps` ≥ 2, `fps` > 0, `quartile` 1–4, ...);
- `trajectory_id`s unique safe names, camera names safe names, `clip_path` relative paths
  of safe names, text columns without control characters.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from robopref.atomic import write_atomic
from robopref.errors import InputError, shown
from robopref.pool.config import PoolConfig
from robopref.pool.metrics import compute_metrics
from robopref.pool.schema import LATER_COLUMNS, MANIFEST_SCHEMA
from robopref.pool.trajectory import MAX_FPS, Trajectory
from robopref.pool.true_return import true_return
from robopref.safe_paths import MAX_NAME_CHARS
from robopref.types import source_tier

MANIFEST = "manifest.parquet"

_SAFE_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
_RESERVED_NAME = r"^(?i)(con|prn|aux|nul|com[0-9]|lpt[0-9])(\.|$)"
_SAFE_RELATIVE_PATH = r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$"
_CONTROL = r"[\x{00}-\x{1f}\x{7f}-\x{9f}]"

TEXT_COLUMNS = ("task", "env_id", "source", "tier")
"""Free-text columns: non-empty, no control characters."""

RANGES: dict[str, tuple[float | None, float | None, bool]] = {
    "n_steps": (2, None, False),
    "fps": (0, MAX_FPS, True),
    "duration_s": (0, None, True),
    "horizon_s": (0, None, True),
    "time_to_success_s": (0, None, False),
    "collisions": (0, None, False),
    "minor_collisions": (0, None, False),
    "major_collisions": (0, None, False),
    "peak_force_n": (0, None, False),
    "frac_under_5cm": (0, 1, False),
    "frac_under_2cm": (0, 1, False),
    "path_length_m": (0, None, False),
    "straight_line_m": (0, None, False),
    "path_efficiency": (0, 1, False),
    "jerk": (0, None, False),
    "gripper_changes": (0, None, False),
    "gripper_closed_frac": (0, 1, False),
    "progress": (0, 1, False),
    "quartile": (1, 4, False),
}
"""Column → (lowest, highest, lowest excluded): the values a pool can hold."""


def read_manifest(path: Path) -> pd.DataFrame:
    """The checked manifest at `path` as a frame with exactly the MANIFEST_SCHEMA columns.

    Raises:
        InputError: Naming `path` and the column at fault (`manifest.parquet` for the file).
    """
    if not path.is_file():
        raise InputError(path, MANIFEST, "missing: not a pool folder")
    try:
        with pq.ParquetFile(path) as parquet:  # not read_table: it refuses repeated columns
            table = parquet.read()
        table.validate(full=True)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise InputError(path, MANIFEST, f"not a readable Parquet file: {_brief(exc)}") from exc
    frame: pd.DataFrame = check_manifest(table, path).to_pandas()
    return frame


def check_manifest(table: pa.Table, path: Path) -> pa.Table:
    """`table` cast to MANIFEST_SCHEMA, after checking it obeys the manifest's rules.

    Raises:
        InputError: Naming `path` and the first column at fault.
    """
    table = _check_columns(table, path)
    columns = [_typed_column(table.column(f.name), f, path) for f in MANIFEST_SCHEMA]
    typed = pa.Table.from_arrays(columns, schema=MANIFEST_SCHEMA)
    ids = typed.column("trajectory_id")
    for field in MANIFEST_SCHEMA:
        _check_nulls(typed.column(field.name), field, ids, path)
    _check_ids(ids, path)
    _check_numbers(typed, path)
    for name in TEXT_COLUMNS:
        _check_text(typed.column(name), name, ids, path)
    _check_cameras(typed.column("cameras"), ids, path)
    _check_clip_paths(typed.column("clip_path"), ids, path)
    return typed


def manifest_row(traj: Trajectory, config: PoolConfig) -> dict[str, Any]:
    """The manifest row of one trajectory (metrics computed; rubric filled in on commit)."""
    meta = traj.metadata
    return {
        "trajectory_id": traj.trajectory_id,
        "task": traj.task,
        "env_id": traj.env_id,
        "source": traj.source,
        "tier": source_tier(traj.source),
        "source_dataset": _optional_str(meta.get("source_dataset")),
        "source_episode": _optional_str(meta.get("source_episode")),
        "seed": meta.get("seed"),
        "success_known": traj.success is not None,
        "n_steps": traj.n_steps,
        "fps": float(traj.fps),
        "duration_s": traj.duration_s,
        "horizon_s": meta.get("horizon_s"),
        **compute_metrics(traj, config.metrics).as_row(),
        "true_return": true_return(traj),
        "cameras": traj.cameras,
        "clip_path": None,
        "added_at": datetime.now(UTC),
    }


def _optional_str(value: object) -> str | None:
    return None if value is None else str(value)


def manifest_table(frame: pd.DataFrame, path: Path) -> pa.Table:
    """`frame` as a MANIFEST_SCHEMA table, checked as a reader would check it.

    Raises:
        InputError: A value the manifest may not hold (e.g. an infinite metric), so that
            nothing robopref writes is refused when read back.
    """
    try:
        table = pa.Table.from_pandas(frame, schema=MANIFEST_SCHEMA, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:
        raise InputError(path, MANIFEST, f"rows do not fit the schema: {exc}") from exc
    return check_manifest(table, path)


def write_manifest(root: Path, table: pa.Table) -> None:
    """Atomically replace `root/manifest.parquet` with `table` (cast to MANIFEST_SCHEMA)."""

    def write(tmp: Path) -> None:
        pq.write_table(table.cast(MANIFEST_SCHEMA), tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())  # the manifest is the pool: on disk before the rename

    write_atomic(root / MANIFEST, write)


def unsafe_name_mask(values: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """True where a string is not a safe name (`robopref.safe_paths.is_safe_name`), or null.

    The same rule as `is_safe_name`, over a whole column at once.
    """
    safe = pc.and_(
        pc.match_substring_regex(values, _SAFE_NAME),
        pc.less_equal(pc.utf8_length(values), MAX_NAME_CHARS),
    )
    safe = pc.and_(safe, pc.invert(pc.match_substring(values, "..")))
    safe = pc.and_(safe, pc.invert(pc.ends_with(values, ".")))
    safe = pc.and_(safe, pc.invert(pc.match_substring_regex(values, _RESERVED_NAME)))
    return ~np.asarray(safe.fill_null(False), dtype=bool)


def _check_columns(table: pa.Table, path: Path) -> pa.Table:
    """`table` with LATER_COLUMNS it lacks added as nulls, after checking the others."""
    names = table.column_names
    missing = [
        f.name for f in MANIFEST_SCHEMA if f.name not in names and f.name not in LATER_COLUMNS
    ]
    if missing:
        raise InputError(path, missing[0], f"column missing ({len(missing)} in all)")
    repeated = [f.name for f in MANIFEST_SCHEMA if names.count(f.name) > 1]
    if repeated:
        raise InputError(path, repeated[0], "column appears more than once")
    for name in LATER_COLUMNS:
        if name not in names:
            field = MANIFEST_SCHEMA.field(name)
            table = table.append_column(field, pa.nulls(len(table), field.type))
    return table


def _typed_column(column: pa.ChunkedArray, field: pa.Field, path: Path) -> pa.ChunkedArray:
    """`column` cast to `field.type`, if its type is of the same kind and its values fit."""
    if column.type == field.type:
        return column
    if not _compatible(column.type, field.type):
        raise InputError(path, field.name, f"expected {field.type} values, got {column.type}")
    try:
        return column.cast(field.type, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        message = f"values do not fit {field.type}: {_brief(exc)}"
        raise InputError(path, field.name, message) from exc


def _compatible(actual: pa.DataType, wanted: pa.DataType) -> bool:
    """True if values of `actual` can stand for `wanted` (a number for a number, ...).

    Floats for integers are accepted (pandas writes a nullable int column as float64):
    the safe cast then refuses any value that is not a whole number.
    """
    if pa.types.is_dictionary(actual):
        actual = actual.value_type
    if pa.types.is_null(actual):
        return True  # an all-null column: the null check decides
    kinds = (
        (pa.types.is_string, lambda t: pa.types.is_string(t) or pa.types.is_large_string(t)),
        (pa.types.is_integer, lambda t: pa.types.is_integer(t) or pa.types.is_floating(t)),
        (pa.types.is_floating, lambda t: pa.types.is_floating(t) or pa.types.is_integer(t)),
        (pa.types.is_boolean, pa.types.is_boolean),
        (pa.types.is_timestamp, pa.types.is_timestamp),
    )
    for is_wanted, accepts in kinds:
        if is_wanted(wanted):
            return bool(accepts(actual))
    if pa.types.is_list(wanted) and (pa.types.is_list(actual) or pa.types.is_large_list(actual)):
        return _compatible(actual.value_type, wanted.value_type)
    return bool(actual == wanted)


def _check_nulls(
    column: pa.ChunkedArray, field: pa.Field, ids: pa.ChunkedArray, path: Path
) -> None:
    if not field.nullable and column.null_count:
        first = _first(np.asarray(column.is_null(), dtype=bool))
        raise InputError(
            path, field.name, f"{column.null_count} null value(s), first {_row(ids, first)}"
        )
    if pa.types.is_list(field.type):
        values = pc.list_flatten(column)
        if values.null_count:
            raise InputError(path, field.name, "a list holds a null value")


def _check_ids(ids: pa.ChunkedArray, path: Path) -> None:
    unsafe = unsafe_name_mask(ids)
    if unsafe.any():
        first = _first(unsafe)
        raise InputError(
            path,
            "trajectory_id",
            f"{shown(ids[first].as_py())} (row {first}) is not a safe name: ids name"
            f" folders, so use 1–{MAX_NAME_CHARS} ASCII letters, digits, '.', '_' or '-'",
        )
    if pc.count_distinct(ids).as_py() != len(ids):
        repeated = pd.Series(ids.to_numpy(zero_copy_only=False)).duplicated().to_numpy()
        first = _first(repeated)
        raise InputError(
            path, "trajectory_id", f"{shown(ids[first].as_py())} appears more than once"
        )


def _check_numbers(table: pa.Table, path: Path) -> None:
    """No NaN or infinity where a number is required, no infinity anywhere; values in range."""
    ids = table.column("trajectory_id")
    for field in MANIFEST_SCHEMA:
        if not (pa.types.is_floating(field.type) or pa.types.is_integer(field.type)):
            continue
        values = table.column(field.name).to_numpy(zero_copy_only=False).astype(np.float64)
        known = ~np.isnan(values)
        if pa.types.is_floating(field.type):
            bad = np.isinf(values) if field.nullable else ~np.isfinite(values)
            if bad.any():
                raise InputError(
                    path,
                    field.name,
                    f"{values[_first(bad)]} is not a finite number ({_row(ids, _first(bad))})",
                )
        low, high, open_low = RANGES.get(field.name, (None, None, False))
        outside = np.zeros(len(values), bool)
        if low is not None:
            outside |= known & ((values <= low) if open_low else (values < low))
        if high is not None:
            outside |= known & (values > high)
        if outside.any():
            first = _first(outside)
            shown = f"{'(' if open_low else '['}{low}, {high if high is not None else '∞'}]"
            raise InputError(
                path, field.name, f"{values[first]:g} outside {shown} ({_row(ids, first)})"
            )


def _check_text(column: pa.ChunkedArray, name: str, ids: pa.ChunkedArray, path: Path) -> None:
    values = pc.unique(column)  # few distinct tasks and sources: check each once
    bad = pc.or_(pc.match_substring_regex(values, _CONTROL), pc.equal(pc.utf8_length(values), 0))
    bad_values = values.filter(bad.fill_null(False))
    if len(bad_values):
        first = _first(np.asarray(pc.is_in(column, bad_values).fill_null(False), dtype=bool))
        raise InputError(
            path,
            name,
            f"{shown(column[first].as_py())} is empty or holds control characters"
            f" ({_row(ids, first)})",
        )


def _check_cameras(column: pa.ChunkedArray, ids: pa.ChunkedArray, path: Path) -> None:
    names = pc.list_flatten(column)
    distinct = pc.unique(names)
    if not unsafe_name_mask(distinct).any():
        return
    unsafe = unsafe_name_mask(names)
    if unsafe.any():
        row = int(np.asarray(pc.list_parent_indices(column))[_first(unsafe)])
        raise InputError(
            path,
            "cameras",
            f"{shown(names[_first(unsafe)].as_py())} is not a safe camera name"
            f" ({_row(ids, row)}): camera names name video files",
        )


def _check_clip_paths(column: pa.ChunkedArray, ids: pa.ChunkedArray, path: Path) -> None:
    ok = pc.and_(
        pc.match_substring_regex(column, _SAFE_RELATIVE_PATH),
        pc.invert(pc.match_substring(column, "..")),
    )
    bad = ~np.asarray(ok.fill_null(True), dtype=bool)
    if bad.any():
        first = _first(bad)
        raise InputError(
            path,
            "clip_path",
            f"{shown(column[first].as_py())} is not a relative path of safe names inside the"
            f" pool ({_row(ids, first)})",
        )


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _row(ids: pa.ChunkedArray, row: int) -> str:
    """`row 3 (trajectory 'abc')`, or just the row where the id itself is the problem."""
    trajectory_id = ids[row].as_py()
    return f"row {row}" if trajectory_id is None else f"row {row}, {shown(trajectory_id)}"


def _brief(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 200 else text[:200] + "…"

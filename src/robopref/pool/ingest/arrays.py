"""Typed readers for the per-step arrays of an episode: shape, dtype, length and finiteness.

Importers pass every array they take from a source through one of these, so an array of
the wrong kind is refused where it is read, naming the file and the key (never later as a
numpy error or a Trajectory that names no file).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from robopref.errors import InputError
from robopref.pool.ingest.fields import read_flag

MIN_STEPS = 2
"""Fewest steps an episode may have (a Trajectory needs two for velocities)."""

Where = str | Path


def numeric(value: object, *, where: Where, field: str) -> np.ndarray:
    """`value` as a numeric (bool, int or float) numpy array with at least one dimension.

    Raises:
        InputError: Not numeric (text, objects, complex, compound), or a scalar.
    """
    array = np.asarray(value) if not isinstance(value, np.ndarray) else value
    if array.dtype.kind not in "biuf":
        raise InputError(where, field, f"must be numeric, got dtype {array.dtype}")
    if array.ndim == 0:
        raise InputError(where, field, "must be an array with one row per step, got a scalar")
    return array


def require_steps(n: int, *, where: Where, field: str) -> int:
    """`n` if an episode of n steps can be imported (at least MIN_STEPS).

    Raises:
        InputError: Fewer steps.
    """
    if n < MIN_STEPS:
        steps = "step" if n == 1 else "steps"
        raise InputError(where, field, f"has {n} {steps}; an episode needs at least {MIN_STEPS}")
    return n


def _rows(array: np.ndarray, *, where: Where, field: str, n: int | None) -> None:
    if n is not None and len(array) != n:
        raise InputError(where, field, f"has {len(array)} rows, expected {n}")


def _finite(array: np.ndarray, *, where: Where, field: str) -> None:
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        raise InputError(where, field, "contains NaN or infinite values")


def as_float_matrix(value: object, *, where: Where, field: str, n: int | None = None) -> np.ndarray:
    """A (T, D) float32 copy of a per-step array ((T,) becomes (T, 1)).

    Raises:
        InputError: Not numeric, wrong rank, wrong length, or not finite.
    """
    array = numeric(value, where=where, field=field)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise InputError(where, field, f"must be (T, D), got shape {array.shape}")
    _rows(array, where=where, field=field, n=n)
    _finite(array, where=where, field=field)
    with np.errstate(over="ignore"):  # float64 values beyond float32's range become inf
        result = array.astype(np.float32)
    _finite(result, where=where, field=field)
    return result


def as_float_vector(value: object, *, where: Where, field: str, n: int) -> np.ndarray:
    """A (T,) float32 copy of a per-step scalar series, stored as (T,) or (T, 1).

    Raises:
        InputError: As `as_float_matrix`, or more than one column.
    """
    matrix = as_float_matrix(value, where=where, field=field, n=n)
    if matrix.shape[1] != 1:
        raise InputError(where, field, f"must be (T,), got shape {matrix.shape}")
    return matrix[:, 0]


def as_times(value: object, *, where: Where, field: str, n: int) -> np.ndarray:
    """(T,) float64 timestamps in seconds: finite and strictly increasing.

    Raises:
        InputError: Not such a series.
    """
    array = numeric(value, where=where, field=field).astype(np.float64)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise InputError(where, field, f"must be (T,), got shape {array.shape}")
    _rows(array, where=where, field=field, n=n)
    _finite(array, where=where, field=field)
    if np.any(np.diff(array) <= 0):
        raise InputError(where, field, "must be strictly increasing")
    return array


def as_frames(value: object, *, where: Where, field: str, n: int) -> np.ndarray:
    """(T, H, W, 3) uint8 RGB frames with H, W >= 1.

    Raises:
        InputError: Another dtype or shape, an empty side, or another number of frames.
    """
    array = np.asarray(value) if not isinstance(value, np.ndarray) else value
    if array.dtype != np.uint8 or array.ndim != 4 or array.shape[-1] != 3:
        raise InputError(
            where, field, f"expected (T, H, W, 3) uint8, got {array.shape} {array.dtype}"
        )
    if array.shape[1] < 1 or array.shape[2] < 1:
        raise InputError(where, field, f"frames are {array.shape[1]}×{array.shape[2]} pixels")
    _rows(array, where=where, field=field, n=n)
    return array


def first_true(values: np.ndarray) -> int | None:
    """Index of the first non-zero entry of a per-step flag, or None.

    >>> first_true(np.array([0, 0, 1, 1]))
    2
    """
    array = np.asarray(values)
    if array.size == 0:
        return None
    hits = np.flatnonzero(array.reshape(len(array), -1).any(axis=1))
    return int(hits[0]) if len(hits) else None


def as_success(
    value: object, *, where: Where, field: str, n: int
) -> tuple[bool | None, int | None]:
    """(success, success step) from a stored flag: one flag, or T per-step flags.

    Per-step flags (T,) or (T, 1) give success if any step is set, and the first such step;
    one flag (a scalar, or a one-element array) gives success without a step.

    Raises:
        InputError: Neither (text, NaN, an array of another length, a value not 0/1).
    """
    if isinstance(value, np.ndarray) and value.size != 1:
        flags = as_float_matrix(value, where=where, field=field, n=n)
        if flags.shape[1] != 1 or not np.isin(flags, (0.0, 1.0)).all():
            raise InputError(where, field, "per-step success flags must be (T,) of 0/1")
        step = first_true(flags)
        return step is not None, step
    return read_flag(value, path=where, field=field), None

"""Krippendorff's alpha from (unit, value) annotations, vectorised for millions of rows."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pandas as pd

Distance = Callable[[np.ndarray], np.ndarray]
"""`distance(n_c) -> (K, K)` squared distances between categories given their marginals."""


def ordinal_distance(n_c: np.ndarray) -> np.ndarray:
    """Ordinal metric: δ²(c, k) = (Σ_{g=c..k} n_g − (n_c + n_k)/2)² (Krippendorff 2011, §3.2).

    >>> ordinal_distance(np.array([2.0, 2.0, 2.0])).tolist()
    [[0.0, 4.0, 16.0], [4.0, 0.0, 4.0], [16.0, 4.0, 0.0]]
    """
    cum = np.concatenate([[0.0], np.cumsum(n_c)])
    lo = np.minimum.outer(np.arange(len(n_c)), np.arange(len(n_c)))
    hi = np.maximum.outer(np.arange(len(n_c)), np.arange(len(n_c)))
    between = cum[hi + 1] - cum[lo]
    return np.asarray((between - (n_c[:, None] + n_c[None, :]) / 2.0) ** 2)


def nominal_distance(n_c: np.ndarray) -> np.ndarray:
    """Nominal metric: 0 for equal categories, 1 otherwise."""
    return 1.0 - np.eye(len(n_c))


def interval_distance(n_c: np.ndarray) -> np.ndarray:
    """Interval metric on the category codes 0, 1, …: (c − k)²."""
    codes = np.arange(len(n_c), dtype=float)
    return np.asarray((codes[:, None] - codes[None, :]) ** 2)


def value_counts(units: npt.ArrayLike, codes: npt.ArrayLike, n_categories: int) -> np.ndarray:
    """Units × categories counts: how many annotators gave each category to each unit.

    Args:
        units: Unit (item) id of each annotation, shape (N,); any hashable values.
        codes: Category code of each annotation in 0 … n_categories−1, shape (N,);
            negative codes (missing answers) are dropped.
        n_categories: Number of categories K.

    Returns:
        An integer array of shape (U, K): U the number of distinct units, or, when the
        units are already small non-negative integers, max(unit) + 1 (rows of units
        never named are zero and drop out of alpha).
    """
    codes = np.asarray(codes, dtype=np.int64)
    keep = codes >= 0
    if codes[keep].size and codes[keep].max() >= n_categories:
        raise ValueError(f"codes must be < n_categories={n_categories}")
    unit_array = np.asarray(units)[keep]
    if _is_small_index(unit_array):
        # Already indices: skip factorising (units never named give all-zero rows).
        unit_index, n_units = unit_array.astype(np.int64), int(unit_array.max()) + 1
    else:
        unit_index, uniques = pd.factorize(unit_array)
        n_units = len(uniques)
    flat = unit_index.astype(np.int64) * n_categories + codes[keep]
    counts = np.bincount(flat, minlength=n_units * n_categories)
    return counts.reshape(n_units, n_categories)


def _is_small_index(units: np.ndarray) -> bool:
    """Whether units are non-negative integers no larger than a few times their count."""
    if units.dtype.kind not in "iu" or units.size == 0:
        return False
    return bool(units.min() >= 0 and units.max() < 4 * units.size)


def alpha_from_counts(counts: np.ndarray, distance: Distance = ordinal_distance) -> float:
    """Krippendorff's alpha from a units × categories count matrix.

    Coincidences o_ck = Σ_u (n_uc·n_uk − [c = k]·n_uc) / (m_u − 1) over units with m_u ≥ 2
    values; alpha = 1 − (n − 1)·Σ o_ck δ²_ck / Σ n_c·n_k δ²_ck (Krippendorff 2011).

    Returns:
        Alpha, or NaN when fewer than two pairable values exist or all pairable values
        fall in one category (expected disagreement is zero).
    """
    counts = np.asarray(counts, dtype=float)
    m = counts.sum(axis=1)
    pairable = counts[m >= 2]
    weights = 1.0 / (m[m >= 2] - 1.0)
    o = (pairable * weights[:, None]).T @ pairable - np.diag(weights @ pairable)
    n_c = o.sum(axis=0)
    n = n_c.sum()
    if n <= 1:
        return float("nan")
    delta = distance(n_c)
    expected = float(n_c @ delta @ n_c)
    if expected <= 0:
        return float("nan")
    return float(1.0 - (n - 1.0) * float((o * delta).sum()) / expected)


def krippendorff_alpha(
    units: npt.ArrayLike,
    codes: npt.ArrayLike,
    *,
    n_categories: int,
    distance: Distance = ordinal_distance,
) -> float:
    """Krippendorff's alpha of annotations given as (unit, code) rows.

    >>> units = ["p1", "p1", "p2", "p2", "p3", "p3"]
    >>> round(krippendorff_alpha(units, [0, 0, 2, 2, 1, 0], n_categories=3), 3)
    0.778

    Args:
        units: Unit id of each annotation, shape (N,).
        codes: Category code of each annotation, shape (N,) (for preferences:
            0 = A, 1 = equal, 2 = B; negative = missing).
        n_categories: Number of categories.
        distance: `ordinal_distance` (default), `nominal_distance` or `interval_distance`.

    Returns:
        Alpha in (−∞, 1]; NaN when undefined.
    """
    return alpha_from_counts(value_counts(units, codes, n_categories), distance)

from __future__ import annotations

import math

import krippendorff
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from robopref.quality import (
    interval_distance,
    krippendorff_alpha,
    nominal_distance,
    ordinal_distance,
)

LEVELS = [
    ("ordinal", ordinal_distance),
    ("nominal", nominal_distance),
    ("interval", interval_distance),
]


def _ours(matrix: np.ndarray, distance) -> float:  # type: ignore[no-untyped-def]
    """Alpha of an annotators × units matrix (NaN = missing) through our row interface."""
    coder, unit = np.nonzero(~np.isnan(matrix))
    return krippendorff_alpha(
        unit, matrix[coder, unit].astype(int), n_categories=3, distance=distance
    )


def _reference(matrix: np.ndarray, level: str) -> float:
    try:
        return float(
            krippendorff.alpha(
                reliability_data=matrix, value_domain=[0, 1, 2], level_of_measurement=level
            )
        )
    except ValueError:  # the package raises where alpha is undefined
        return float("nan")


matrices = hnp.arrays(
    np.float64,
    st.tuples(st.integers(2, 6), st.integers(1, 25)),
    elements=st.sampled_from([0.0, 1.0, 2.0, np.nan]),
)


@settings(max_examples=300, deadline=None)
@given(matrices)
def test_alpha_matches_the_krippendorff_package(matrix: np.ndarray) -> None:
    for level, distance in LEVELS:
        ours, reference = _ours(matrix, distance), _reference(matrix, level)
        if math.isnan(reference) or not np.isfinite(reference):
            assert math.isnan(ours)
        else:
            assert ours == pytest.approx(reference, abs=1e-9), level


def test_alpha_matches_on_a_large_random_sample() -> None:
    rng = np.random.default_rng(1)
    truth = rng.integers(0, 3, 2000)
    matrix = np.where(rng.random((5, 2000)) < 0.8, truth, rng.integers(0, 3, (5, 2000))).astype(
        float
    )
    matrix[rng.random((5, 2000)) < 0.4] = np.nan
    assert _ours(matrix, ordinal_distance) == pytest.approx(
        _reference(matrix, "ordinal"), abs=1e-10
    )


def test_perfect_agreement_gives_one_and_chance_gives_about_zero() -> None:
    units = np.repeat(np.arange(100), 3)
    codes = np.repeat(np.arange(100) % 3, 3)
    assert krippendorff_alpha(units, codes, n_categories=3) == pytest.approx(1.0)
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 3, 30_000)
    assert abs(krippendorff_alpha(np.repeat(np.arange(10_000), 3), noise, n_categories=3)) < 0.03


def test_ordinal_penalises_a_versus_b_more_than_a_versus_equal() -> None:
    units = ["p1", "p1", "p2", "p2", "p3", "p3", "p4", "p4"]
    near = krippendorff_alpha(units, [0, 1, 2, 2, 0, 0, 1, 1], n_categories=3)
    far = krippendorff_alpha(units, [0, 2, 2, 2, 0, 0, 1, 1], n_categories=3)
    assert far < near


def test_alpha_of_krippendorffs_published_example() -> None:
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability", p. 8: ordinal 0.815.
    matrix = np.array(
        [
            [1, 2, 3, 3, 2, 1, 4, 1, 2, np.nan, np.nan, np.nan],
            [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, np.nan, 3],
            [np.nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, np.nan],
            [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, np.nan],
        ]
    )
    coder, unit = np.nonzero(~np.isnan(matrix))
    ours = krippendorff_alpha(unit, matrix[coder, unit].astype(int) - 1, n_categories=5)
    assert round(ours, 3) == 0.815


def test_missing_codes_are_ignored_and_undefined_is_nan() -> None:
    assert math.isnan(krippendorff_alpha(["p1", "p2"], [0, 1], n_categories=3))  # nothing pairable
    assert math.isnan(krippendorff_alpha(["p1", "p1"], [1, 1], n_categories=3))  # one category
    with_missing = krippendorff_alpha(
        ["p1", "p1", "p1", "p2", "p2"], [0, 0, -1, 2, 2], n_categories=3
    )
    assert with_missing == pytest.approx(1.0)


def test_integer_unit_indices_and_string_ids_agree() -> None:
    rng = np.random.default_rng(3)
    units = rng.integers(0, 500, 3000)
    codes = rng.integers(0, 3, 3000)
    as_ids = np.array([f"pair-{u}" for u in units], dtype=object)
    assert krippendorff_alpha(units, codes, n_categories=3) == pytest.approx(
        krippendorff_alpha(as_ids, codes, n_categories=3), abs=1e-12
    )

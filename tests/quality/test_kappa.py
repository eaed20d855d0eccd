from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score

from robopref.quality import CertificationStep, QAConfig, certification_step, cohen_kappa

labels = st.sampled_from(["A", "B", "equal"])


@settings(max_examples=300)
@given(
    st.integers(1, 60).flatmap(
        lambda n: st.tuples(
            st.lists(labels, min_size=n, max_size=n), st.lists(labels, min_size=n, max_size=n)
        )
    )
)
def test_kappa_matches_scikit_learn(pair: tuple[list[str], list[str]]) -> None:
    a, b = pair
    ours = cohen_kappa(a, b)
    reference = cohen_kappa_score(a, b)
    if math.isnan(reference):
        assert math.isnan(ours)
    else:
        assert ours == pytest.approx(reference, abs=1e-12)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (["A", "B", "A", "B"], ["A", "B", "A", "B"], 1.0),
        (["A", "B", "A", "B"], ["B", "A", "B", "A"], -1.0),
        (["A", "A", "B", "B"], ["A", "B", "A", "B"], 0.0),
        # Cohen (1960)-style table: 20 AA, 5 AB, 10 BA, 15 BB → p_o .7, p_e .5 → .4
        (["A"] * 25 + ["B"] * 25, ["A"] * 20 + ["B"] * 5 + ["A"] * 10 + ["B"] * 15, 0.4),
    ],
)
def test_kappa_on_hand_made_cases(a: list[str], b: list[str], expected: float) -> None:
    assert cohen_kappa(a, b) == pytest.approx(expected)
    assert cohen_kappa_score(a, b) == pytest.approx(expected)


def test_kappa_is_undefined_when_both_use_one_label() -> None:
    assert math.isnan(cohen_kappa(["A", "A"], ["A", "A"]))
    assert math.isnan(cohen_kappa([], []))


def test_kappa_works_on_integer_codes_large() -> None:
    rng = np.random.default_rng(0)
    a = rng.integers(0, 3, 200_000)
    b = np.where(rng.random(200_000) < 0.7, a, rng.integers(0, 3, 200_000))
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b), abs=1e-12)


def test_kappa_rejects_unequal_lengths() -> None:
    with pytest.raises(ValueError, match="equal length"):
        cohen_kappa(["A"], ["A", "B"])


@pytest.mark.parametrize(
    ("kappas", "step"),
    [
        ([], CertificationStep.RETEST),
        ([0.8], CertificationStep.CERTIFIED),
        ([0.65], CertificationStep.CERTIFIED),
        ([0.3], CertificationStep.RETEST),
        ([float("nan")], CertificationStep.RETEST),
        ([0.3, 0.7], CertificationStep.CERTIFIED),
        ([0.3, 0.5], CertificationStep.REJECTED),
    ],
)
def test_certification_step(kappas: list[float], step: CertificationStep) -> None:
    assert certification_step(kappas, QAConfig()) == step


def test_certification_threshold_is_configurable() -> None:
    assert certification_step([0.5], QAConfig(kappa_threshold=0.4)) == CertificationStep.CERTIFIED
    assert (
        certification_step([0.5], QAConfig(max_calibration_attempts=1))
        == CertificationStep.REJECTED
    )

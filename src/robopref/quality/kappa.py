"""Cohen's kappa between two label sequences (vectorised), and certification decisions."""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum

import numpy as np
import numpy.typing as npt
import pandas as pd

from robopref.quality.config import QAConfig


def cohen_kappa(labels_a: npt.ArrayLike, labels_b: npt.ArrayLike) -> float:
    """Cohen's kappa of two raters over the same items (Cohen 1960).

    kappa = (p_o − p_e) / (1 − p_e), with p_o the observed agreement and p_e the agreement
    expected from each rater's label frequencies. NaN when p_e = 1 (both raters used one
    and the same label throughout), as scikit-learn returns.

    >>> round(cohen_kappa(["A", "A", "B", "B"], ["A", "B", "B", "B"]), 3)
    0.5

    Args:
        labels_a: One label per item (any hashable values).
        labels_b: The other rater's labels, same length.

    Returns:
        Kappa in [−1, 1], or NaN when undefined or there are no items.

    Raises:
        ValueError: The sequences differ in length.
    """
    a, b = np.asarray(labels_a), np.asarray(labels_b)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(
            f"labels must be two 1-D sequences of equal length, got {a.shape}, {b.shape}"
        )
    if len(a) == 0:
        return float("nan")
    codes, _ = pd.factorize(np.concatenate([a, b]), sort=True)
    k = int(codes.max()) + 1
    ca, cb = codes[: len(a)], codes[len(a) :]
    confusion = np.bincount(ca * k + cb, minlength=k * k).reshape(k, k).astype(float)
    n = confusion.sum()
    p_o = np.trace(confusion) / n
    p_e = float(confusion.sum(1) @ confusion.sum(0)) / n**2
    if p_e >= 1.0:
        return float("nan")
    return float((p_o - p_e) / (1.0 - p_e))


class CertificationStep(str, Enum):
    """What happens to an annotator after a calibration attempt."""

    CERTIFIED = "certified"
    RETEST = "retest"
    """Failed; a second training session, then the next calibration set (seed 004)."""
    REJECTED = "rejected"


def certification_step(kappas: Sequence[float], config: QAConfig) -> CertificationStep:
    """Decide the next step from an annotator's kappas on the sets taken so far.

    An attempt at or above `config.kappa_threshold` certifies; otherwise the annotator is
    retested on the next set until `config.max_calibration_attempts` are used up. An
    undefined (NaN) kappa counts as a fail.

    >>> certification_step([0.5], QAConfig())
    <CertificationStep.RETEST: 'retest'>
    >>> certification_step([0.5, 0.7], QAConfig())
    <CertificationStep.CERTIFIED: 'certified'>
    >>> certification_step([0.5, 0.6], QAConfig())
    <CertificationStep.REJECTED: 'rejected'>
    """
    if kappas and kappas[-1] >= config.kappa_threshold:  # NaN compares False
        return CertificationStep.CERTIFIED
    if len(kappas) < config.max_calibration_attempts:
        return CertificationStep.RETEST
    return CertificationStep.REJECTED

"""Type checks the policy stage's config dataclasses share (bools are never numbers here)."""

from __future__ import annotations

import math


def is_int(value: object) -> bool:
    """True for a Python int that is not a bool.

    >>> [is_int(v) for v in (3, True, 2.0)]
    [True, False, False]
    """
    return isinstance(value, int) and not isinstance(value, bool)


def is_finite(value: object) -> bool:
    """True for a finite Python int or float that is not a bool.

    >>> [is_finite(v) for v in (3, 0.5, float("nan"), True, "1")]
    [True, True, False, False, False]
    """
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)

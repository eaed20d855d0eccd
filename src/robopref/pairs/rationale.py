"""Expert rationales of calibration pairs, in words about "the better clip" and "the other clip".

Sides are randomised per annotator, so a rationale never says A/B or left/right; it names
the metric the pair was chosen on (`calibration.DIMENSIONS`) and the two clips' values.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from numbers import Real

__all__ = ["write_rationale"]


def write_rationale(
    dimension: str, better: Mapping[str, object], other: Mapping[str, object]
) -> str:
    """One or two sentences saying why the better clip wins on `dimension`.

    >>> write_rationale("collisions", {"collisions": 0}, {"collisions": 3})
    'The other clip collides 3 times and the better clip never does.'
    >>> write_rationale("success", {"success": True}, {"success": False, "progress": 0.4})
    'The better clip completes the task; the other clip fails, getting 40% of the way to the goal.'

    Args:
        dimension: One of `DIMENSIONS` (anything else reads as `overall`).
        better: Manifest row (column → value) of the clip with the higher quality score.
        other: Manifest row of the other clip.

    Returns:
        The rationale (plain text).
    """
    writer = _WRITERS.get(dimension, _overall)
    return writer(better, other)


def _number(row: Mapping[str, object], column: str) -> float | None:
    """The column's value as a float; None when absent, missing (NaN) or not a number."""
    value = row.get(column)
    if isinstance(value, bool) or not isinstance(value, Real):  # numpy scalars are Real
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _flag(row: Mapping[str, object], column: str) -> bool | None:
    """The column's value as a bool; None when absent or missing."""
    value = row.get(column)
    if value is None or (isinstance(value, Real) and math.isnan(float(value))):
        return None
    return bool(value)


def _times(n: int) -> str:
    return "once" if n == 1 else "twice" if n == 2 else f"{n} times"


def _outcome(better: Mapping[str, object], other: Mapping[str, object]) -> str:
    """'Both clips complete the task' / 'Both clips fail', or '' when unknown or different."""
    a, b = _flag(better, "success"), _flag(other, "success")
    if a is None or b is None or a != b:
        return ""
    return "Both clips complete the task" if a else "Both clips fail the task"


def _success(better: Mapping[str, object], other: Mapping[str, object]) -> str:
    detail = ""
    progress = _number(other, "progress")
    distance = _number(other, "final_goal_distance_m")
    if progress is not None:
        detail = f", getting {progress:.0%} of the way to the goal"
    elif distance is not None:
        detail = f", ending {distance * 100:.0f} cm from the goal"
    elif _number(other, "gripper_changes") == 0:
        detail = " and never grasps the object"
    return f"The better clip completes the task; the other clip fails{detail}."


def _collisions(better: Mapping[str, object], other: Mapping[str, object]) -> str:
    hits_other = int(_number(other, "collisions") or 0)
    hits_better = int(_number(better, "collisions") or 0)
    major = int(_number(other, "major_collisions") or 0)
    worse = f"the other clip collides {_times(hits_other)}"
    if major:
        worse += f" ({major} of them major)"
    tail = "never does" if hits_better == 0 else f"only {_times(hits_better)}"
    lead = _outcome(better, other)
    sentence = f"{worse} and the better clip {tail}."
    return f"{lead}, but {sentence}" if lead else sentence[0].upper() + sentence[1:]


def _graded(
    better: Mapping[str, object], other: Mapping[str, object], *, column: str, says: str
) -> str:
    a, b = _number(better, column), _number(other, column)
    name = column.removesuffix("_score")
    scores = "" if a is None or b is None else f" ({name} {a:.2f} vs {b:.2f})"
    lead = _outcome(better, other)
    sentence = f"the better clip {says}{scores}."
    return f"{lead}, but {sentence}" if lead else sentence[0].upper() + sentence[1:]


def _efficiency(better: Mapping[str, object], other: Mapping[str, object]) -> str:
    return _graded(better, other, column="efficiency_score",
                   says="takes a shorter, quicker path than the other clip")


def _smoothness(better: Mapping[str, object], other: Mapping[str, object]) -> str:
    return _graded(better, other, column="naturalness_score",
                   says="moves smoothly where the other clip is jerky or hesitant")


def _overall(better: Mapping[str, object], other: Mapping[str, object]) -> str:
    a, b = _number(better, "quality_score"), _number(other, "quality_score")
    scores = "" if a is None or b is None else f" (quality {a + 0.0:.2f} vs {b + 0.0:.2f})"
    lead = _outcome(better, other)
    sentence = ("no single metric decides it, but the better clip scores higher on the "
                f"rubric as a whole than the other clip{scores}.")
    return f"{lead}; {sentence}" if lead else sentence[0].upper() + sentence[1:]


_WRITERS = {
    "success": _success,
    "collisions": _collisions,
    "efficiency": _efficiency,
    "smoothness": _smoothness,
    "overall": _overall,
}

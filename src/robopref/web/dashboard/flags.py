"""QA flags in words: what each flag on an annotator rests on, against which limit."""

from __future__ import annotations

import math
from collections.abc import Callable

import pandas as pd

from robopref.quality import QAConfig
from robopref.web.dashboard.schemas import FlagRow

_STAT_NAMES = {
    "gold_accuracy": "gold accuracy",
    "fast_fraction": "share of fast answers",
    "self_consistency": "self-consistency",
    "majority_agreement": "agreement with the other annotators",
    "position_bias": "position bias",
    "log_response_time": "response time",
}


def _pct(value: object) -> str:
    number = float(value)  # type: ignore[arg-type]
    return "n/a" if math.isnan(number) else f"{number:.0%}"


def _gold(row: pd.Series, c: QAConfig) -> str:
    return (f"gold accuracy {_pct(row['gold_accuracy'])} on {int(row['n_gold'])} gold pairs "
            f"(needs at least {1 - c.max_gold_disagreement:.0%})")


def _fast(row: pd.Series, c: QAConfig) -> str:
    return (f"{_pct(row['fast_fraction'])} of {int(row['n_annotations'])} answers under "
            f"{c.fast_response_ms / 1000:g} s (limit {c.max_fast_fraction:.0%})")


def _inconsistent(row: pd.Series, c: QAConfig) -> str:
    return (f"answered {_pct(row['self_consistency'])} of {int(row['n_duplicates'])} repeated "
            f"pairs as the first time (needs at least {c.min_self_consistency:.0%})")


def _position(row: pd.Series, c: QAConfig) -> str:
    return (f"chose the left clip in {_pct(row['left_fraction'])} of {int(row['n_sided'])} "
            f"choices (allowed 50% ± {c.max_position_bias:.0%})")


_DETAILS: dict[str, Callable[[pd.Series, QAConfig], str]] = {
    "gold": _gold, "fast": _fast, "inconsistent": _inconsistent, "position": _position,
}


def flag_detail(flag: str, row: pd.Series, config: QAConfig) -> str:
    """One sentence on a flag of `row` (an `annotator_stats` row).

    >>> row = pd.Series({"fast_fraction": 0.35, "n_annotations": 40})
    >>> flag_detail("fast", row, QAConfig())
    '35% of 40 answers under 3 s (limit 20%)'
    """
    if flag in _DETAILS:
        return _DETAILS[flag](row, config)
    stat = flag.removeprefix("outlier:")
    return (f"{_STAT_NAMES.get(stat, stat)} more than {config.outlier_sigma:g} standard "
            "deviations worse than the other annotators'")


def flag_rows(stats: pd.DataFrame, config: QAConfig) -> list[FlagRow]:
    """Every flag of every annotator (`annotator_stats` output), by annotator."""
    rows = []
    for annotator_id, row in stats.iterrows():
        for flag in filter(None, str(row["flags"]).split(",")):
            rows.append(FlagRow(annotator_id=str(annotator_id), flag=flag,
                                detail=flag_detail(flag, row, config)))
    return rows

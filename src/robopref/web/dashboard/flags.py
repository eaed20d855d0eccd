"""QA flags in words: what each flag on an annotator rests on, against which limit."""

from __future__ import annotations

import math
from collections.abc import Callable

import pandas as pd

from robopref.quality import QAConfig
from robopref.web.dashboard.schemas import FlagRow

_OUTLIER_NAMES = {
    "gold_accuracy": "gold accuracy",
    "fast_fraction": "share of fast answers",
    "self_consistency": "self-consistency",
    "majority_agreement": "agreement with the majority",
    "position_bias": "distance of the left share from 50%",
    "log_response_time": "mean response time",
}
"""`annotator_stats` outlier stat → words."""


def _outlier_values(stats: pd.DataFrame) -> pd.DataFrame:
    """The values outliers are judged on, in people's units (shares; seconds for time)."""
    return pd.DataFrame({
        "gold_accuracy": stats["gold_accuracy"],
        "fast_fraction": stats["fast_fraction"],
        "self_consistency": stats["self_consistency"],
        "majority_agreement": stats["majority_agreement"],
        "position_bias": (stats["left_fraction"] - 0.5).abs(),
        "log_response_time": stats["mean_response_time_ms"] / 1000.0,
    })


def _outlier(stat: str, annotator: str, values: pd.DataFrame, config: QAConfig) -> str:
    name = _OUTLIER_NAMES.get(stat, stat)
    if stat not in values.columns:
        return f"{name}: more than {config.outlier_sigma:g} σ from the other annotators"
    column = values[stat]
    others = column.drop(index=annotator).dropna()
    shown = (lambda v: f"{v:.1f} s") if stat == "log_response_time" else _pct
    typical = "n/a" if others.empty else shown(float(others.median()))
    return (f"{name} {shown(float(column.loc[annotator]))}, against {typical} for the other "
            f"annotators (median): more than {config.outlier_sigma:g} σ worse")


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
            f"choices (flagged beyond 50% ± {c.max_position_bias:.0%} when a fair coin would be "
            f"that lopsided with p < {c.position_bias_p:g})")


_DETAILS: dict[str, Callable[[pd.Series, QAConfig], str]] = {
    "gold": _gold, "fast": _fast, "inconsistent": _inconsistent, "position": _position,
}


def threshold_detail(flag: str, row: pd.Series, config: QAConfig) -> str:
    """One sentence on a threshold flag (`gold`, `fast`, …) of an `annotator_stats` row.

    >>> row = pd.Series({"fast_fraction": 0.35, "n_annotations": 40})
    >>> threshold_detail("fast", row, QAConfig())
    '35% of 40 answers under 3 s (limit 20%)'
    """
    return _DETAILS[flag](row, config) if flag in _DETAILS else flag


def flag_rows(stats: pd.DataFrame, config: QAConfig) -> list[FlagRow]:
    """Every flag of every annotator (`annotator_stats` output) with what it rests on."""
    values = _outlier_values(stats)
    rows = []
    for annotator_id, row in stats.iterrows():
        for flag in filter(None, str(row["flags"]).split(",")):
            if flag.startswith("outlier:"):
                detail = _outlier(flag.removeprefix("outlier:"), str(annotator_id), values,
                                  config)
            else:
                detail = threshold_detail(flag, row, config)
            rows.append(FlagRow(annotator_id=str(annotator_id), flag=flag, detail=detail))
    return rows

"""AI labels as tables: a labeler's answers (for routing) and the preferences training reads.

AI labels never enter quality control as a person's (`robopref.types.is_ai_label`); they
reach training through their own preferences table: the contract's columns plus
`label_source` (`ai:<labeler>`) and `weight` (the per-source weight, tuned on the
validation split), which reward training reads beside the human export.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from robopref.errors import InputError
from robopref.schemas import PREFERENCES_SCHEMA, PREFERENCES_SCHEMA_VERSION
from robopref.tables import TableFiles, write_table_files
from robopref.teachers.labeler import Labeler, PairView
from robopref.types import Choice

AI_LABEL_COLUMNS = (
    "pair_id",
    "trajectory_a_id",
    "trajectory_b_id",
    "task",
    "preference",
    "confidence",
    "p_a",
    "annotator_id",
    "label_source",
)
"""One AI answer per row: `preference` A/B/equal, `confidence` 1–5, `p_a` the labeler's
P(A ≻ B), `label_source` `ai:<labeler>`."""

AI_PREFERENCES_SCHEMA = PREFERENCES_SCHEMA.append(pa.field("weight", pa.float64(), False)).append(
    pa.field("label_source", pa.string(), False)
)
"""`ai_preferences.parquet`: `PREFERENCES_SCHEMA` + `weight` (≥ 0) + `label_source`."""

_P_OF = {Choice.A: 1.0, Choice.B: 0.0, Choice.EQUAL: 0.5}


def ai_label_table(labeler: Labeler, pairs: Iterable[PairView], *, seed: int) -> pd.DataFrame:
    """Ask an AI labeler about `pairs` directly (no store): one row per answer, none per abstention.

    An answer without its own `p_a` gets 1.0 / 0.0 / 0.5 from its choice.

    Raises:
        InputError: The labeler is a human one, or cannot judge one of the trajectories.
    """
    provenance = labeler.provenance
    if provenance.is_human:
        raise InputError("labeler", "labeler", f"{provenance.labeler!r} is not an AI labeler")
    views = list(pairs)
    labeler.check_trajectories({t for v in views for t in (v.trajectory_a_id, v.trajectory_b_id)})
    rows = []
    for view in views:
        answer = labeler.label(view, seed=seed)
        if answer is None:
            continue
        p_a = _P_OF[answer.preference] if answer.p_a is None else float(answer.p_a)
        rows.append((view.pair_id, view.trajectory_a_id, view.trajectory_b_id, view.task,
                     answer.preference.value, answer.confidence, p_a, labeler.annotator_id,
                     f"ai:{provenance.labeler}"))  # fmt: skip
    return pd.DataFrame(rows, columns=list(AI_LABEL_COLUMNS)).astype(
        {"confidence": "int64", "p_a": "float64"}
    )


def label_accuracy(labels: pd.DataFrame, truth: Mapping[str, float]) -> float | None:
    """Share of labels whose direction matches the truth, over the pairs the truth orders.

    A label says A when `p_a` > 0.5 and B when < 0.5; an `equal` (0.5) counts as wrong.
    None when no labelled pair is ordered by the truth.

    Raises:
        InputError: The truth lacks a labelled trajectory.
    """
    if labels.empty:
        return None
    a, b = labels["trajectory_a_id"].astype(str), labels["trajectory_b_id"].astype(str)
    try:
        gap = np.array([truth[x] - truth[y] for x, y in zip(a, b, strict=True)], np.float64)
    except KeyError as exc:
        raise InputError("truth", "trajectory_id", f"no truth for {exc.args[0]!r}") from None
    ordered = gap != 0
    if not ordered.any():
        return None
    said = np.sign(labels["p_a"].to_numpy(np.float64) - 0.5)
    return float((said[ordered] == np.sign(gap[ordered])).mean())


def accuracy_by(labels: pd.DataFrame, truth: Mapping[str, float], column: str) -> pd.DataFrame:
    """`label_accuracy` per value of `column` (e.g. `stratum`).

    Returns:
        Index: the values of `column`; columns `n` (labels) and `accuracy`.
    """
    rows = [(key, len(group), label_accuracy(group, truth))
            for key, group in labels.groupby(column, sort=True)]  # fmt: skip
    return pd.DataFrame(rows, columns=[column, "n", "accuracy"]).set_index(column)


def flip_labels(labels: pd.DataFrame, mask: np.ndarray) -> pd.DataFrame:
    """A copy with the masked rows' answers swapped (A ↔ B, p_a → 1 − p_a; equal stays).

    >>> frame = pd.DataFrame({"preference": ["A", "B", "equal"], "p_a": [0.9, 0.2, 0.5]})
    >>> flipped = flip_labels(frame, np.array([True, True, False]))
    >>> flipped["preference"].tolist(), flipped["p_a"].round(2).tolist()
    (['B', 'A', 'equal'], [0.1, 0.8, 0.5])
    """
    out = labels.copy()
    mask = np.asarray(mask, bool)
    swap = {Choice.A.value: Choice.B.value, Choice.B.value: Choice.A.value}
    out.loc[mask, "preference"] = out.loc[mask, "preference"].map(lambda c: swap.get(c, c))
    out.loc[mask, "p_a"] = 1.0 - out.loc[mask, "p_a"]
    return out


def ai_preference_rows(labels: pd.DataFrame, *, weight: float = 1.0) -> pd.DataFrame:
    """Preferences-schema rows (`AI_PREFERENCES_SCHEMA`) for AI labels to train on.

    Args:
        labels: `AI_LABEL_COLUMNS` rows, e.g. `Routed.for_training` (clean and flipped).
        weight: The source's weight in training, the same for every row (≥ 0).

    Returns:
        One row per pair: `preference` 1.0 / 0.0 / 0.5 from the answer, `confidence_mean`
        its confidence, one annotator (the labeler's id) agreeing with itself, `source` and
        `label_source` `ai:<labeler>`, `weight`.

    Raises:
        InputError: A column is missing, a pair is labelled twice, or `weight` < 0.
    """
    for column in AI_LABEL_COLUMNS:
        if column not in labels.columns:
            raise InputError("ai labels", column, "column missing")
    if not weight >= 0:
        raise InputError("ai labels", "weight", f"must be >= 0, got {weight}")
    if labels["pair_id"].duplicated().any():
        pair = labels.loc[labels["pair_id"].duplicated(), "pair_id"].iloc[0]
        raise InputError("ai labels", "pair_id", f"{pair!r} labelled twice")
    preference = labels["preference"].map({c.value: p for c, p in _P_OF.items()})
    return pd.DataFrame({
        "pair_id": labels["pair_id"].astype(str),
        "trajectory_a_id": labels["trajectory_a_id"].astype(str),
        "trajectory_b_id": labels["trajectory_b_id"].astype(str),
        "preference": preference.astype("float64"),
        "confidence_mean": labels["confidence"].astype("float64"),
        "num_annotators": np.ones(len(labels), np.int32),
        "agreement": np.ones(len(labels)),
        "annotator_ids": [[str(a)] for a in labels["annotator_id"]],
        "task": labels["task"].astype(str),
        "source": labels["label_source"].astype(str),
        "weight": np.full(len(labels), float(weight)),
        "label_source": labels["label_source"].astype(str),
    }).reset_index(drop=True)  # fmt: skip


def write_ai_preferences(
    preferences: pd.DataFrame, out_dir: str | Path, *, stem: str = "ai_preferences"
) -> TableFiles:
    """Write `<stem>.parquet` and `<stem>.jsonl` (`AI_PREFERENCES_SCHEMA`) from the same rows."""
    if preferences.empty:
        table = AI_PREFERENCES_SCHEMA.empty_table()
    else:
        table = pa.Table.from_pandas(
            preferences, schema=AI_PREFERENCES_SCHEMA, preserve_index=False
        )
    table = table.replace_schema_metadata({"schema_version": str(PREFERENCES_SCHEMA_VERSION)})
    return write_table_files(table, Path(out_dir), stem)

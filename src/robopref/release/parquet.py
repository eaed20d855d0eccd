"""Preferences and raw annotations in the release: contract checks, Parquet + JSONL files.

Both files of a table are written from the same rows.

The checks replicate `check_contract.py preferences` (shared tooling): the contract columns
exist, preference ∈ {0, 0.5, 1}, agreement ∈ [0, 1], pair_id is unique and no pair compares
a trajectory with itself. Files are written deterministically (same rows → same bytes).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa

from robopref.errors import InputError
from robopref.schemas import ANNOTATIONS_SCHEMA, PREFERENCES_SCHEMA, PREFERENCES_SCHEMA_VERSION
from robopref.types import Choice

CONTRACT_COLUMNS = (
    "pair_id",
    "trajectory_a_id",
    "trajectory_b_id",
    "preference",
    "confidence_mean",
    "num_annotators",
    "agreement",
    "annotator_ids",
)
"""The preference columns DESIGN.md names (check_contract.py's PREFERENCE_COLUMNS)."""


def _required(schema: pa.Schema) -> list[str]:
    return [f.name for f in schema if not f.nullable]


def _cast(frame: pd.DataFrame, schema: pa.Schema, origin: str | Path) -> pa.Table:
    """`frame` as a table of exactly `schema` (absent nullable columns become null)."""
    for name in _required(schema):
        if name not in frame.columns:
            raise InputError(origin, name, "column missing")
        if frame[name].isna().any():
            raise InputError(origin, name, "has missing values")
    columns = {}
    for field in schema:
        values = frame[field.name] if field.name in frame.columns else [None] * len(frame)
        try:
            columns[field.name] = pa.array(list(values), type=field.type, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as exc:
            raise InputError(origin, field.name, f"not {field.type}: {exc}") from exc
    return pa.table(columns, schema=schema)


def check_preferences(frame: pd.DataFrame, origin: str | Path) -> pa.Table:
    """Check aggregated preferences against the contract and cast to PREFERENCES_SCHEMA.

    Raises:
        InputError: A contract column is missing or a value breaks the contract; the error
            names `origin` and the column.
    """
    for column in CONTRACT_COLUMNS:
        if column not in frame.columns:
            raise InputError(origin, column, "column missing (preferences contract)")
    table = _cast(frame, PREFERENCES_SCHEMA, origin)
    prefs = frame["preference"].astype("float64")
    if not prefs.isin([0.0, 0.5, 1.0]).all():
        bad = sorted(set(prefs[~prefs.isin([0.0, 0.5, 1.0])].tolist()))[:5]
        raise InputError(origin, "preference", f"values outside {{0.0, 0.5, 1.0}}: {bad}")
    if not frame["agreement"].astype("float64").between(0.0, 1.0).all():
        raise InputError(origin, "agreement", "values outside [0, 1]")
    duplicated = frame["pair_id"][frame["pair_id"].duplicated()].tolist()
    if duplicated:
        raise InputError(origin, "pair_id", f"not unique: {duplicated[:5]}")
    if (frame["trajectory_a_id"] == frame["trajectory_b_id"]).any():
        raise InputError(origin, "trajectory_b_id", "a pair compares a trajectory with itself")
    return table.replace_schema_metadata({"schema_version": str(PREFERENCES_SCHEMA_VERSION)})


def check_annotations(frame: pd.DataFrame, origin: str | Path) -> pa.Table:
    """Check raw annotations and cast them to ANNOTATIONS_SCHEMA.

    Raises:
        InputError: A required column is missing, a preference is not A/B/equal, or a
            confidence lies outside 1–5.
    """
    table = _cast(frame, ANNOTATIONS_SCHEMA, origin)
    choices = {c.value for c in Choice}
    bad = sorted(set(frame["preference"].astype(str)) - choices)
    if bad:
        raise InputError(origin, "preference", f"{bad[:5]} not in {sorted(choices)}")
    if not frame["confidence"].astype("int64").between(1, 5).all():
        raise InputError(origin, "confidence", "values outside 1–5")
    return table

"""Preferences and raw annotations in the release: contract checks, Parquet + JSONL files.

Both files of a table are written from the same rows.

The checks replicate `check_contract.py preferences` (shared tooling): the contract columns
exist, preference ∈ {0, 0.5, 1}, agreement ∈ [0, 1], pair_id is unique and no pair compares
a trajectory with itself; all but the first set rule are PREFERENCES_TABLE's, checked by
`robopref.tables`. Files are written deterministically (same rows → same bytes).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa

from robopref.errors import InputError
from robopref.schemas import (
    ANNOTATIONS_SCHEMA,
    ANNOTATIONS_TABLE,
    PREFERENCES_SCHEMA,
    PREFERENCES_SCHEMA_VERSION,
    PREFERENCES_TABLE,
)
from robopref.tables import check_table

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
    return preferences_table(check_table(frame, PREFERENCES_TABLE, origin=origin), origin)


def preferences_table(frame: pd.DataFrame, origin: str | Path) -> pa.Table:
    """Preferences already checked against PREFERENCES_TABLE (`robopref.tables`), as a table.

    Adds the release's own rule: preference ∈ {0, 0.5, 1} (no soft labels in a release).

    Raises:
        InputError: A preference is another value.
    """
    for column in CONTRACT_COLUMNS:
        if column not in frame.columns:
            raise InputError(origin, column, "column missing (preferences contract)")
    prefs = frame["preference"].astype("float64")
    if not prefs.isin([0.0, 0.5, 1.0]).all():
        bad = sorted(set(prefs[~prefs.isin([0.0, 0.5, 1.0])].tolist()))[:5]
        raise InputError(origin, "preference", f"values outside {{0.0, 0.5, 1.0}}: {bad}")
    table = _cast(frame, PREFERENCES_SCHEMA, origin)
    return table.replace_schema_metadata({"schema_version": str(PREFERENCES_SCHEMA_VERSION)})


def check_annotations(frame: pd.DataFrame, origin: str | Path) -> pa.Table:
    """Check raw annotations against ANNOTATIONS_TABLE and cast them to ANNOTATIONS_SCHEMA.

    Raises:
        InputError: A required column is missing, or a value is of the wrong type or out of
            range (a preference not A/B/equal, a confidence outside 1–5, ...).
    """
    return _cast(check_table(frame, ANNOTATIONS_TABLE, origin=origin), ANNOTATIONS_SCHEMA, origin)

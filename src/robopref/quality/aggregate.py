"""One label per pair (majority vote, soft label, confidence, agreement) and the export."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from robopref.quality.config import QAConfig
from robopref.quality.consistency import production
from robopref.quality.frames import CODES
from robopref.schemas import PREFERENCES_SCHEMA, PREFERENCES_SCHEMA_VERSION
from robopref.tables import TableFiles, write_table_files

PREFERENCE_OF_CODE = np.array([1.0, 0.5, 0.0])
"""Soft label of each code: A preferred → 1.0, equal → 0.5, B preferred → 0.0."""

VOTE_COLUMNS = (
    "pair_id",
    "trajectory_a_id",
    "trajectory_b_id",
    "task",
    "annotator_id",
    "code",
    "confidence",
)
"""Columns `vote` reads: one row per answer, `code` 0 = A, 1 = equal, 2 = B."""


def vote(rows: pd.DataFrame, config: QAConfig) -> pd.DataFrame:
    """Aggregate answers to one row per pair with the `PREFERENCES_SCHEMA` columns.

    Rule (seed 004): the label with a strict majority (more than half the answers) wins:
    2 of 3, 2 of 2, 3 of 5. Without one — all three different, or a 1–1 split between two
    annotators — the pair is ambiguous and dropped, or exported as a tie (0.5) when
    `config.split_as_tie`. `agreement` is the winning label's share of the answers;
    `confidence_mean` averages every counted answer's confidence; pairs with fewer than
    `config.min_annotators` answers are dropped.

    Args:
        rows: One row per answer with `VOTE_COLUMNS`.
        config: Tie rule, minimum annotators and the `source` label.

    Returns:
        The export rows sorted by `pair_id` (PREFERENCES_SCHEMA column order).
    """
    columns = [f.name for f in PREFERENCES_SCHEMA]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    pair_index, pair_ids = pd.factorize(rows["pair_id"], sort=True)
    annotator_index, annotators = pd.factorize(rows["annotator_id"], sort=True)
    codes = rows["code"].to_numpy(np.int64)
    matrix = np.bincount(pair_index * 3 + codes, minlength=3 * len(pair_ids)).reshape(-1, 3)
    n = matrix.sum(axis=1)
    top = matrix.max(axis=1)
    has_majority = top * 2 > n
    keep = (has_majority | config.split_as_tie) & (n >= config.min_annotators)
    # Rows sorted by pair, then annotator: each pair's answers are one contiguous run.
    order = np.lexsort((annotator_index, pair_index))
    starts = np.concatenate([[0], np.cumsum(n)[:-1]])
    confidence = rows["confidence"].to_numpy(float)
    valid = ~np.isnan(confidence)
    conf_sum = np.bincount(pair_index, np.where(valid, confidence, 0.0), len(pair_ids))
    conf_n = np.bincount(pair_index, valid.astype(float), len(pair_ids))
    names = np.asarray(annotators, dtype=object)[annotator_index[order]]
    lists = np.split(names, np.cumsum(n)[:-1])
    first = order[starts]
    column = {
        c: rows[c].to_numpy(object)[first] for c in ("trajectory_a_id", "trajectory_b_id", "task")
    }
    out = pd.DataFrame(
        {
            "pair_id": np.asarray(pair_ids, dtype=object),
            "trajectory_a_id": column["trajectory_a_id"],
            "trajectory_b_id": column["trajectory_b_id"],
            "preference": np.where(has_majority, PREFERENCE_OF_CODE[matrix.argmax(axis=1)], 0.5),
            "confidence_mean": conf_sum / np.maximum(conf_n, 1) + np.where(conf_n > 0, 0, np.nan),
            "num_annotators": n.astype(np.int32),
            "agreement": top / n,
            "task": column["task"],
            "source": config.source,
        }
    )[keep]
    out["annotator_ids"] = [lists[i].tolist() for i in np.flatnonzero(keep)]
    exported: pd.DataFrame = out.reset_index(drop=True)[columns]
    return exported


def aggregate_preferences(
    resolved: pd.DataFrame, config: QAConfig, *, exclude_annotators: Collection[str] = ()
) -> pd.DataFrame:
    """The preferences export from resolved production annotations.

    Reversed duplicates are not separate pairs and are not counted again (the annotator
    already answered the original); calibration answers are left out; the answers of
    `exclude_annotators` (e.g. flagged ones) are dropped before voting.

    Args:
        resolved: `resolve_annotations` output.
        config: Voting rules.
        exclude_annotators: Annotators whose labels are left out.

    Returns:
        One row per pair that has a label, `PREFERENCES_SCHEMA` columns.
    """
    rows = production(resolved)
    rows = rows[~rows["is_duplicate"] & ~rows["annotator_id"].isin(list(exclude_annotators))]
    return vote(rows.drop(columns="pair_id").rename(columns={"base_pair_id": "pair_id"}), config)


def aggregate_rankings(expanded: pd.DataFrame, config: QAConfig) -> pd.DataFrame:
    """The preferences export from expanded rankings (`robopref.pairs.expand_ranking` rows).

    Each ranking's pairs vote like pairwise answers, across the annotators of a set;
    `source` is `ranking`. A ranking given without confidence counts as the middle of the
    1–5 scale (3), since the export's `confidence_mean` may not be missing.
    """
    rows = expanded.assign(
        code=expanded["preference"].map(CODES),
        task=expanded.get("task", None),
        confidence=pd.to_numeric(expanded["confidence"], errors="coerce").fillna(3.0),
    )
    return vote(rows, replace(config, source="ranking"))


def write_preferences(preferences: pd.DataFrame, out_dir: str | Path) -> TableFiles:
    """Write `preferences.parquet` and `preferences.jsonl` from the same rows, atomically.

    Each file is written under a temporary name and renamed into place, so a reader sees
    either the old file or the whole new one. The Parquet file carries
    `schema_version` in its metadata. No rows (no pair has a majority yet) writes empty
    files with the schema.
    """
    if preferences.empty:  # an empty frame's object columns read as float64: pyarrow refuses
        table = PREFERENCES_SCHEMA.empty_table()
    else:
        table = pa.Table.from_pandas(preferences, schema=PREFERENCES_SCHEMA, preserve_index=False)
    table = table.replace_schema_metadata({"schema_version": str(PREFERENCES_SCHEMA_VERSION)})
    return write_table_files(table, Path(out_dir), "preferences")

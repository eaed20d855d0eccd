"""Annotations joined to their pairs, in the frame of the original pair (duplicates mapped back)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from robopref.errors import InputError
from robopref.schemas import PAIR_COLUMNS
from robopref.types import Choice, PairKind, is_ai_label

ANNOTATION_COLUMNS = (
    "pair_id",
    "annotator_id",
    "preference",
    "confidence",
    "response_time_ms",
    "left_trajectory_id",
)
"""Columns of `ANNOTATIONS_SCHEMA` that quality control reads."""

CODES = {Choice.A.value: 0, Choice.EQUAL.value: 1, Choice.B.value: 2}
"""Ordinal codes of the answers: A < equal < B (seed 004's ordinal preference scale)."""

RESOLVED_COLUMNS = (
    "annotator_id",
    "pair_id",
    "base_pair_id",
    "batch_id",
    "is_duplicate",
    "kind",
    "task",
    "stratum",
    "quartiles",
    "trajectory_a_id",
    "trajectory_b_id",
    "code",
    "expected_code",
    "chose_left",
    "confidence",
    "response_time_ms",
    "created_at",
)
"""Columns of `resolve_annotations`' frame (A/B and codes are those of the original pair)."""


_QUARTILE_LABELS = np.array([f"q{i // 5}-q{i % 5}" for i in range(25)], dtype=object)
"""`"qL-qH"` labels indexed by 5·low + high quartile."""


def check_columns(frame: pd.DataFrame, columns: tuple[str, ...], path: str) -> None:
    """Raise `InputError(path, column, ...)` for the first missing column."""
    for column in columns:
        if column not in frame.columns:
            raise InputError(path, column, "missing column")


def ai_label_mask(annotations: pd.DataFrame) -> np.ndarray:
    """(N,) bool: which annotations an AI labeler gave (`interface_version` `ai:…`).

    Quality control counts people only (and simulated people, who stand in for them): AI
    labels reach training through their own table. A frame without `interface_version`
    holds no AI labels.
    """
    if "interface_version" not in annotations.columns:
        return np.zeros(len(annotations), bool)
    versions = annotations["interface_version"]
    codes, uniques = pd.factorize(versions)  # millions of rows, a handful of versions
    is_ai = np.array([is_ai_label(v) for v in uniques], bool)
    return is_ai[codes] & (codes >= 0) if len(uniques) else np.zeros(len(versions), bool)


def resolve_annotations(
    annotations: pd.DataFrame,
    pairs: pd.DataFrame,
    *,
    annotations_path: str | None = None,
    pairs_path: str | None = None,
) -> pd.DataFrame:
    """Join each annotation to its pair and express it in the original pair's A/B frame.

    A reversed duplicate's answer is flipped (its A is the original's B) and attributed to
    the original pair, so agreement and consistency compare like with like. AI labels
    (`ai_label_mask`) are left out: every QA figure and the aggregate are about people.

    Args:
        annotations: Rows with at least `ANNOTATION_COLUMNS` (`ANNOTATIONS_SCHEMA`).
        pairs: Rows with `PAIR_COLUMNS` covering every annotated pair and every original
            of a duplicate.
        annotations_path: Named in error messages; the file the frame was read from
            (`attrs["origin"]`, set by `robopref.tables`) or `annotations` if None.
        pairs_path: Likewise for the pairs (`pairs` if unknown).

    Returns:
        One row per human annotation with `RESOLVED_COLUMNS`: `code` 0 = A, 1 = equal, 2 = B;
        `expected_code` likewise or NaN; `chose_left` 1.0 / 0.0 / NaN (equal);
        `quartiles` like `"q1-q3"`.

    Raises:
        InputError: A column is missing, a preference is not A/B/equal, an annotation
            names an unknown pair, a duplicate's original is missing, or the left
            trajectory is not one of the pair's two.
    """
    annotations_path = annotations_path or annotations.attrs.get("origin", "annotations")
    pairs_path = pairs_path or pairs.attrs.get("origin", "pairs")
    check_columns(annotations, ANNOTATION_COLUMNS, annotations_path)
    check_columns(pairs, PAIR_COLUMNS, pairs_path)
    table = pairs.drop_duplicates("pair_id").reset_index(drop=True)
    index = pd.Index(table["pair_id"].to_numpy(object))
    ai = ai_label_mask(annotations)
    ann = (annotations[~ai] if ai.any() else annotations).reset_index(drop=True)
    codes = _codes(ann["preference"], annotations_path)
    own = _positions(index, ann["pair_id"])
    if (own < 0).any():
        missing = ann.loc[own < 0, "pair_id"]
        raise InputError(
            annotations_path,
            "pair_id",
            f"{missing.nunique()} annotated pairs are not in the pairs frame, "
            f"e.g. {missing.iloc[0]!r}",
        )
    kind = table["kind"].to_numpy(object)
    is_dup = kind[own] == PairKind.DUPLICATE.value
    original = _positions(index, table["duplicate_of"].fillna(""))
    base = np.where(is_dup, original[own], own)
    if (base < 0).any():
        raise InputError(pairs_path, "duplicate_of", "a duplicate's original pair is missing")
    codes = np.where(is_dup, 2 - codes, codes)  # a reversed duplicate: A ↔ B
    return _resolved_frame(ann, table, own=own, base=base, codes=codes, path=annotations_path)


def _codes(preference: pd.Series, path: str) -> np.ndarray:
    """Ordinal codes of the answers (factorised first: millions of rows, three values)."""
    index, values = pd.factorize(preference)
    lookup = np.array([CODES.get(str(v), -1) for v in values], dtype=np.int64)
    codes = lookup[index] if len(values) else np.zeros(len(preference), np.int64)
    if (codes < 0).any():
        bad = preference[codes < 0].iloc[0]
        raise InputError(path, "preference", f"must be A, B or equal, got {bad!r}")
    return codes


def _positions(index: pd.Index, labels: pd.Series) -> np.ndarray:
    """Row of each label in `index` (−1 when absent), looking each distinct label up once."""
    codes, uniques = pd.factorize(labels)
    found = index.get_indexer(pd.Index(np.asarray(uniques, dtype=object)))
    return np.where(codes >= 0, found[codes] if len(found) else -1, -1)


def _resolved_frame(
    ann: pd.DataFrame,
    table: pd.DataFrame,
    *,
    own: np.ndarray,
    base: np.ndarray,
    codes: np.ndarray,
    path: str,
) -> pd.DataFrame:
    """The `RESOLVED_COLUMNS` frame from annotations and the rows of their own/original pairs."""
    column = {c: table[c].to_numpy(object) for c in PAIR_COLUMNS}
    left = ann["left_trajectory_id"].to_numpy(object)
    a_ids, b_ids = column["trajectory_a_id"][base], column["trajectory_b_id"][base]
    on_a, on_b = left == a_ids, left == b_ids
    if not (on_a | on_b).all():
        raise InputError(path, "left_trajectory_id", "not one of the pair's trajectories")
    chose_left = np.where(codes == 1, np.nan, ((codes == 0) & on_a) | ((codes == 2) & on_b))
    qa = table["quartile_a"].to_numpy(np.int64)[base]
    qb = table["quartile_b"].to_numpy(np.int64)[base]
    expected = table["expected_preference"].map(CODES).to_numpy(float)[base]
    return pd.DataFrame(
        {
            "annotator_id": ann["annotator_id"].to_numpy(object),
            "pair_id": column["pair_id"][own],
            "base_pair_id": column["pair_id"][base],
            "batch_id": column["batch_id"][own],
            "is_duplicate": own != base,
            "kind": column["kind"][base],
            "task": column["task"][base],
            "stratum": column["stratum"][base],
            "quartiles": _QUARTILE_LABELS[np.minimum(qa, qb) * 5 + np.maximum(qa, qb)],
            "trajectory_a_id": a_ids,
            "trajectory_b_id": b_ids,
            "code": codes,
            "expected_code": expected,
            "chose_left": chose_left.astype(float),
            "confidence": pd.to_numeric(ann["confidence"], errors="coerce").to_numpy(float),
            "response_time_ms": pd.to_numeric(ann["response_time_ms"], errors="coerce").to_numpy(
                float
            ),
            "created_at": pd.to_datetime(
                ann["created_at"] if "created_at" in ann else pd.Series(pd.NaT, index=ann.index),
                utc=True,
            ).to_numpy(),
        },
        columns=list(RESOLVED_COLUMNS),
    )

"""Annotations joined to their pairs, in the frame of the original pair (duplicates mapped back)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from robopref.errors import InputError
from robopref.pairs.records import PAIR_COLUMNS
from robopref.types import Choice, PairKind

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


def resolve_annotations(
    annotations: pd.DataFrame,
    pairs: pd.DataFrame,
    *,
    annotations_path: str = "annotations",
    pairs_path: str = "pairs",
) -> pd.DataFrame:
    """Join each annotation to its pair and express it in the original pair's A/B frame.

    A reversed duplicate's answer is flipped (its A is the original's B) and attributed to
    the original pair, so agreement and consistency compare like with like.

    Args:
        annotations: Rows with at least `ANNOTATION_COLUMNS` (`ANNOTATIONS_SCHEMA`).
        pairs: Rows with `PAIR_COLUMNS` covering every annotated pair and every original
            of a duplicate.
        annotations_path: Named in error messages.
        pairs_path: Named in error messages.

    Returns:
        One row per annotation with `RESOLVED_COLUMNS`: `code` 0 = A, 1 = equal, 2 = B;
        `expected_code` likewise or NaN; `chose_left` 1.0 / 0.0 / NaN (equal);
        `quartiles` like `"q1-q3"`.

    Raises:
        InputError: A column is missing, a preference is not A/B/equal, an annotation
            names an unknown pair, a duplicate's original is missing, or the left
            trajectory is not one of the pair's two.
    """
    check_columns(annotations, ANNOTATION_COLUMNS, annotations_path)
    check_columns(pairs, PAIR_COLUMNS, pairs_path)
    pairs = pairs.drop_duplicates("pair_id").set_index("pair_id")
    ann = annotations.reset_index(drop=True)
    code = ann["preference"].astype(str).map(CODES)
    if code.isna().any():
        bad = ann.loc[code.isna(), "preference"].iloc[0]
        raise InputError(annotations_path, "preference", f"must be A, B or equal, got {bad!r}")
    known = ann["pair_id"].isin(pairs.index)
    if not known.all():
        missing = ann.loc[~known, "pair_id"]
        raise InputError(
            annotations_path,
            "pair_id",
            f"{missing.nunique()} annotated pairs are not in the pairs frame, "
            f"e.g. {missing.iloc[0]!r}",
        )
    own = pairs.loc[ann["pair_id"]]
    is_dup = (own["kind"] == PairKind.DUPLICATE.value).to_numpy()
    base_id = np.where(
        is_dup, own["duplicate_of"].to_numpy(object), ann["pair_id"].to_numpy(object)
    )
    if not pd.Index(base_id).isin(pairs.index).all():
        raise InputError(pairs_path, "duplicate_of", "a duplicate's original pair is missing")
    codes = code.to_numpy(np.int64)
    codes = np.where(is_dup, 2 - codes, codes)  # a reversed duplicate: A ↔ B
    return _resolved_frame(ann, own, pairs.loc[base_id], codes=codes, path=annotations_path)


def _resolved_frame(
    ann: pd.DataFrame, own: pd.DataFrame, base: pd.DataFrame, *, codes: np.ndarray, path: str
) -> pd.DataFrame:
    """The `RESOLVED_COLUMNS` frame from aligned annotations, own pairs and original pairs."""
    left = ann["left_trajectory_id"].astype(str).to_numpy()
    a_ids, b_ids = base["trajectory_a_id"].to_numpy(), base["trajectory_b_id"].to_numpy()
    on_a, on_b = left == a_ids, left == b_ids
    if not (on_a | on_b).all():
        raise InputError(path, "left_trajectory_id", "not one of the pair's trajectories")
    chose_left = np.where(codes == 1, np.nan, ((codes == 0) & on_a) | ((codes == 2) & on_b))
    qa = base["quartile_a"].to_numpy(np.int64)
    qb = base["quartile_b"].to_numpy(np.int64)
    expected = base["expected_preference"].map(CODES).to_numpy(float)
    return pd.DataFrame(
        {
            "annotator_id": ann["annotator_id"].astype(str).to_numpy(),
            "pair_id": ann["pair_id"].to_numpy(),
            "base_pair_id": base.index.to_numpy(object),
            "batch_id": own["batch_id"].to_numpy(),
            "is_duplicate": (own["kind"] == PairKind.DUPLICATE.value).to_numpy(),
            "kind": base["kind"].to_numpy(),
            "task": base["task"].to_numpy(),
            "stratum": base["stratum"].to_numpy(),
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

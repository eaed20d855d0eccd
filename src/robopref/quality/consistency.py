"""Self-consistency on duplicates, majority agreement, position bias and disagreement rates."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from robopref.types import PairKind


def production(resolved: pd.DataFrame) -> pd.DataFrame:
    """Annotations of production pairs (calibration answers left out)."""
    return resolved[resolved["kind"] != PairKind.CALIBRATION.value]


def self_consistency(resolved: pd.DataFrame) -> pd.DataFrame:
    """Per annotator: reversed duplicates answered and the share matching their first answer.

    Both answers are in the original pair's frame, so "A then B on the reversed copy" is
    a consistent answer and "A then A" is not.

    Returns:
        Index `annotator_id`; columns `n_duplicates`, `self_consistency`.
    """
    key = ["annotator_id", "base_pair_id"]
    first = resolved[~resolved["is_duplicate"]].drop_duplicates(key)[[*key, "code"]]
    again = resolved[resolved["is_duplicate"]][[*key, "code"]]
    both = again.merge(first, on=key, suffixes=("_dup", "_orig"))
    same = (both["code_dup"] == both["code_orig"]).astype(float).groupby(both["annotator_id"])
    out = pd.DataFrame({"n_duplicates": same.size(), "self_consistency": same.mean()})
    out.index.name = "annotator_id"
    return out


def vote_counts(rows: pd.DataFrame, key: str = "base_pair_id") -> pd.DataFrame:
    """Answers per pair and code: a (pairs × 3) frame of counts of A / equal / B."""
    index, pairs = pd.factorize(rows[key], sort=True)
    flat = index.astype(np.int64) * 3 + rows["code"].to_numpy(np.int64)
    counts = np.bincount(flat, minlength=3 * len(pairs)).reshape(len(pairs), 3)
    return pd.DataFrame(counts, index=pd.Index(pairs, name=key), columns=[0, 1, 2])


def majority_agreement(resolved: pd.DataFrame) -> pd.DataFrame:
    """Per annotator: share of answers equal to the strict majority of the *other* annotators.

    Leaving the annotator out keeps one's own vote from making the majority; answers on
    pairs where the others have no strict majority (or there are no others) are skipped.
    Duplicates are left out (they repeat one annotator).

    Returns:
        Index `annotator_id`; columns `n_majority`, `majority_agreement`.
    """
    rows = resolved[~resolved["is_duplicate"]]
    if rows.empty:
        return pd.DataFrame(columns=["n_majority", "majority_agreement"]).rename_axis(
            "annotator_id"
        )
    counts = vote_counts(rows)
    others = (
        counts.loc[rows["base_pair_id"]].to_numpy()
        - np.eye(3, dtype=np.int64)[rows["code"].to_numpy()]
    )
    total = others.sum(axis=1)
    top = others.max(axis=1)
    winner = others.argmax(axis=1)
    valid = (total > 0) & (top * 2 > total)
    agree = pd.Series((winner == rows["code"].to_numpy()).astype(float), index=rows.index)[valid]
    grouped = agree.groupby(rows.loc[valid, "annotator_id"])
    out = pd.DataFrame({"n_majority": grouped.size(), "majority_agreement": grouped.mean()})
    out.index.name = "annotator_id"
    return out


def position_bias(resolved: pd.DataFrame) -> pd.DataFrame:
    """Per annotator: side choices made (equal answers excluded) and the share for the left side.

    Returns:
        Index `annotator_id`; columns `n_sided`, `left_fraction`.
    """
    sided = resolved[resolved["chose_left"].notna()]
    grouped = sided["chose_left"].groupby(sided["annotator_id"])
    out = pd.DataFrame({"n_sided": grouped.size(), "left_fraction": grouped.mean()})
    out.index.name = "annotator_id"
    return out


def disagreement_rates(resolved: pd.DataFrame, by: str | Sequence[str]) -> pd.DataFrame:
    """Share of multiply-annotated pairs whose annotators did not all agree, per `by` value.

    Args:
        resolved: `resolve_annotations` output (duplicates are left out).
        by: A pair column (`task`, `quartiles`, `stratum` or `batch_id`), or several, e.g.
            `["task", "quartiles"]` for one row per task and quartile pairing.

    Returns:
        Index `by` (a MultiIndex for several columns); columns `pairs` (with ≥ 2 answers)
        and `disagreement_rate`.
    """
    columns = [by] if isinstance(by, str) else list(by)
    rows = resolved[~resolved["is_duplicate"]]
    per_pair = rows.groupby("base_pair_id").agg(
        **{c: (c, "first") for c in columns}, n=("code", "size"), distinct=("code", "nunique")
    )
    per_pair = per_pair[per_pair["n"] >= 2]
    keys = [per_pair[c] for c in columns]
    disagree = (per_pair["distinct"] > 1).astype(float).groupby(keys if len(keys) > 1 else keys[0])
    out = pd.DataFrame({"pairs": disagree.size(), "disagreement_rate": disagree.mean()})
    if len(columns) == 1:
        out.index.name = columns[0]
    else:
        out.index.names = columns
    return out

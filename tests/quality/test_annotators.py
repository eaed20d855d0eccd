from __future__ import annotations

import pandas as pd
import pytest

from robopref.pairs.records import PAIR_COLUMNS
from robopref.quality import QAConfig, annotator_stats, resolve_annotations

from .conftest import Planted


@pytest.fixture(scope="module")
def stats(planted: Planted) -> pd.DataFrame:
    return annotator_stats(resolve_annotations(planted.annotations, planted.pairs), QAConfig())


def _flags(stats: pd.DataFrame, annotator: str) -> set[str]:
    return set(filter(None, stats.loc[annotator, "flags"].split(",")))


def test_careful_annotators_are_not_flagged(stats: pd.DataFrame) -> None:
    careful = stats[stats.index.str.startswith("careful")]
    assert len(careful) == 6
    assert not careful["flagged"].any(), careful["flags"].to_dict()
    assert (careful["gold_accuracy"] > 0.9).all()
    assert (careful["self_consistency"] >= 0.8).all()


def test_speeder_is_flagged_for_fast_answers_and_gold(stats: pd.DataFrame) -> None:
    flags = _flags(stats, "speeder")
    assert {"fast", "gold"} <= flags
    assert "outlier:log_response_time" in flags
    assert stats.loc["speeder", "fast_fraction"] > 0.9


def test_left_clicker_is_flagged_for_position_bias(stats: pd.DataFrame) -> None:
    assert "position" in _flags(stats, "lefty")
    assert stats.loc["lefty", "left_fraction"] == pytest.approx(1.0)
    careful = stats[stats.index.str.startswith("careful")]
    assert ((careful["left_fraction"] - 0.5).abs() < 0.1).all()


def test_inconsistent_annotator_is_flagged(stats: pd.DataFrame) -> None:
    assert "inconsistent" in _flags(stats, "flipper")
    assert stats.loc["flipper", "self_consistency"] < 0.8
    assert "fast" not in _flags(stats, "flipper") and "position" not in _flags(stats, "flipper")


def test_stats_rest_on_the_answers_given(stats: pd.DataFrame, planted: Planted) -> None:
    counts = planted.annotations["annotator_id"].value_counts()
    assert stats["n_annotations"].to_dict() == counts.to_dict()
    assert (stats["n_duplicates"] >= 10).all()
    assert (stats["majority_agreement"].loc[stats.index.str.startswith("careful")] > 0.75).all()


def test_few_answers_never_flag() -> None:
    pairs = pd.DataFrame(
        {
            "pair_id": ["p1"],
            "batch_id": ["b"],
            "trajectory_a_id": ["x"],
            "trajectory_b_id": ["y"],
            "task": ["t"],
            "kind": ["gold"],
            "stratum": ["distant"],
            "quartile_a": [4],
            "quartile_b": [1],
            "expected_preference": ["A"],
            "duplicate_of": [None],
        }
    )
    annotations = pd.DataFrame(
        {
            "pair_id": ["p1"],
            "annotator_id": ["new"],
            "preference": ["B"],
            "confidence": [3],
            "response_time_ms": [500],
            "left_trajectory_id": ["x"],
        }
    )
    stats = annotator_stats(resolve_annotations(annotations, pairs), QAConfig())
    assert stats.loc["new", "gold_accuracy"] == 0.0
    assert stats.loc["new", "flags"] == ""


def _side_stats(answers: dict[str, tuple[int, int]]) -> pd.DataFrame:
    """`annotator_stats` of annotators who each chose the left clip `n_left` of `n` times."""
    pairs, annotations = [], []
    for annotator, (n, n_left) in answers.items():
        for i in range(n):
            pid = f"{annotator}-{i}"
            pairs.append((pid, "b", "x", "y", "t", "regular", "same", 2, 2, None, None))
            annotations.append((pid, annotator, "A", 3, 9000, "x" if i < n_left else "y"))
    ann = pd.DataFrame(annotations, columns=["pair_id", "annotator_id", "preference",
                                             "confidence", "response_time_ms",
                                             "left_trajectory_id"])
    pair_frame = pd.DataFrame(pairs, columns=list(PAIR_COLUMNS))
    return annotator_stats(resolve_annotations(ann, pair_frame), QAConfig())


def test_outlier_flag_compares_with_the_other_annotators() -> None:
    # e's position bias (0.16) is under the 0.2 threshold but far from the others (≤ 0.02),
    # so only the outlier rule fires.
    shares = [("a", 0.5), ("b", 0.52), ("c", 0.48), ("d", 0.5), ("e", 0.66)]
    stats = _side_stats({annotator: (50, round(share * 50)) for annotator, share in shares})
    assert stats.loc["e", "flags"] == "outlier:position_bias"
    assert not stats.drop(index="e")["flagged"].any()


@pytest.mark.parametrize(("n", "n_left", "flagged"),
                         [(30, 22, False), (100, 73, True), (40, 40, True)])
def test_position_bias_flags_only_what_a_fair_coin_rarely_gives(n: int, n_left: int,
                                                                flagged: bool) -> None:
    stats = _side_stats({"a": (n, n_left)})
    assert abs(stats.loc["a", "left_fraction"] - 0.5) > 0.2
    assert ("position" in _flags(stats, "a")) == flagged

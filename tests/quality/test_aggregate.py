from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from robopref.pairs import RankingSetSpec, expand_ranking
from robopref.quality import (
    QAConfig,
    aggregate_preferences,
    aggregate_rankings,
    resolve_annotations,
    write_preferences,
)
from robopref.schemas import PREFERENCES_SCHEMA

from .test_frames import pairs_frame

PAIRS = pairs_frame(
    ("p1", "x", "y", "regular", None, None),
    ("p2", "x", "z", "regular", None, None),
    ("p3", "y", "z", "gold", "B", None),
    ("p4", "u", "v", "regular", None, None),
    ("p5", "u", "w", "regular", None, None),
    ("p5-r", "w", "u", "duplicate", None, "p5"),
    ("p6", "v", "w", "calibration", "A", None),
)

VOTES = [
    ("p1", "a", "A"),
    ("p1", "b", "A"),
    ("p1", "c", "B"),  # 2 of 3 → A
    ("p2", "a", "A"),
    ("p2", "b", "B"),
    ("p2", "c", "equal"),  # all different → dropped
    ("p3", "a", "equal"),
    ("p3", "b", "equal"),
    ("p3", "c", "B"),  # 2 of 3 equal → 0.5
    ("p4", "a", "A"),
    ("p4", "b", "B"),  # 1–1 split between two → dropped
    ("p5", "a", "B"),
    ("p5", "b", "B"),
    ("p5-r", "a", "A"),  # duplicate not counted again
    ("p6", "a", "A"),
    ("p6", "b", "A"),  # calibration: not exported
]


@pytest.fixture
def resolved(make_annotations: Callable[..., pd.DataFrame]) -> pd.DataFrame:
    ann = make_annotations(VOTES, PAIRS)
    ann.loc[ann["pair_id"] == "p1", "confidence"] = [5, 3, 1]
    return resolve_annotations(ann, PAIRS)


def test_majority_vote_rules(resolved: pd.DataFrame) -> None:
    prefs = aggregate_preferences(resolved, QAConfig()).set_index("pair_id")
    assert list(prefs.index) == ["p1", "p3", "p5"]
    assert prefs.loc["p1", "preference"] == 1.0
    assert prefs.loc["p1", "agreement"] == pytest.approx(2 / 3)
    assert prefs.loc["p1", "confidence_mean"] == pytest.approx(3.0)
    assert prefs.loc["p1", "annotator_ids"] == ["a", "b", "c"]
    assert prefs.loc["p3", "preference"] == 0.5
    assert prefs.loc["p5", "preference"] == 0.0
    assert prefs.loc["p5", "num_annotators"] == 2 and prefs.loc["p5", "agreement"] == 1.0
    assert (prefs["task"] == "reach").all() and (prefs["source"] == "human").all()


def test_columns_are_exactly_the_preferences_schema(resolved: pd.DataFrame) -> None:
    prefs = aggregate_preferences(resolved, QAConfig())
    assert list(prefs.columns) == [f.name for f in PREFERENCES_SCHEMA]


def test_splits_become_ties_when_asked(resolved: pd.DataFrame) -> None:
    prefs = aggregate_preferences(resolved, QAConfig(split_as_tie=True)).set_index("pair_id")
    assert prefs.loc["p2", "preference"] == 0.5 and prefs.loc["p2", "agreement"] == pytest.approx(
        1 / 3
    )
    assert prefs.loc["p4", "preference"] == 0.5 and prefs.loc["p4", "agreement"] == 0.5
    assert "p6" not in prefs.index


def test_excluded_annotators_do_not_vote(resolved: pd.DataFrame) -> None:
    prefs = aggregate_preferences(resolved, QAConfig(), exclude_annotators=["c"]).set_index(
        "pair_id"
    )
    assert prefs.loc["p1", "annotator_ids"] == ["a", "b"] and prefs.loc["p1", "agreement"] == 1.0
    assert "p2" not in prefs.index  # A vs B split once c is gone
    one = aggregate_preferences(resolved, QAConfig(min_annotators=3), exclude_annotators=["c"])
    assert one.empty


def test_written_files_hold_the_same_rows(resolved: pd.DataFrame, tmp_path: Path) -> None:
    prefs = aggregate_preferences(resolved, QAConfig())
    files = write_preferences(prefs, tmp_path / "out")
    table = pq.read_table(files.parquet)
    assert table.schema.remove_metadata().equals(PREFERENCES_SCHEMA)
    assert table.schema.metadata[b"schema_version"] == b"1"
    lines = [json.loads(line) for line in files.jsonl.read_text().splitlines()]
    assert lines == table.to_pylist()
    assert [r["pair_id"] for r in lines] == ["p1", "p3", "p5"]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "preferences.jsonl",
        "preferences.parquet",
    ]


def test_no_majority_yet_writes_empty_files_with_the_schema(
    resolved: pd.DataFrame, tmp_path: Path
) -> None:
    prefs = aggregate_preferences(resolved, QAConfig(min_annotators=3), exclude_annotators=["c"])
    assert prefs.empty
    files = write_preferences(prefs, tmp_path / "out")
    table = pq.read_table(files.parquet)
    assert table.num_rows == 0 and table.schema.remove_metadata().equals(PREFERENCES_SCHEMA)
    assert files.jsonl.read_text() == ""


def test_rankings_aggregate_across_annotators() -> None:
    ranking = RankingSetSpec(
        ranking_set_id="r-1",
        task="t",
        trajectory_ids=("x", "y", "z"),
        annotator_ids=("a", "b", "c"),
    )
    expanded = pd.concat(
        [
            expand_ranking(ranking, ["x", "y", "z"], annotator_id="a", confidence=5),
            expand_ranking(ranking, ["x", "z", "y"], annotator_id="b", confidence=3),
            expand_ranking(ranking, ["y", "x", "z"], annotator_id="c"),
        ]
    )
    prefs = aggregate_rankings(expanded, QAConfig()).set_index("pair_id")
    assert prefs.loc["r-1-00-01", "preference"] == 1.0  # x over y, 2 of 3
    assert prefs.loc["r-1-00-02", "agreement"] == 1.0  # everyone put x over z
    assert prefs.loc["r-1-00-02", "confidence_mean"] == pytest.approx((5 + 3 + 3) / 3)
    assert (prefs["source"] == "ranking").all()


def test_vote_matches_a_plain_per_pair_count() -> None:
    import numpy as np

    from robopref.quality import vote

    rng = np.random.default_rng(5)
    rows = []
    for p in range(300):
        for a in rng.choice(8, size=int(rng.integers(1, 5)), replace=False):
            rows.append(
                (
                    f"p{p:03d}",
                    "x",
                    "y",
                    "t",
                    f"ann-{a}",
                    int(rng.integers(0, 3)),
                    float(rng.integers(1, 6)),
                )
            )
    frame = pd.DataFrame(
        rows,
        columns=[
            "pair_id",
            "trajectory_a_id",
            "trajectory_b_id",
            "task",
            "annotator_id",
            "code",
            "confidence",
        ],
    )
    frame = frame.sample(frac=1.0, random_state=0)  # order must not matter
    got = vote(frame, QAConfig(min_annotators=1)).set_index("pair_id")
    for pair_id, group in frame.groupby("pair_id"):
        counts = group["code"].value_counts()
        winner, top = counts.idxmax(), counts.max()
        if top * 2 <= len(group):
            assert pair_id not in got.index
            continue
        row = got.loc[pair_id]
        assert row["preference"] == [1.0, 0.5, 0.0][winner]
        assert row["agreement"] == pytest.approx(top / len(group))
        assert row["confidence_mean"] == pytest.approx(group["confidence"].mean())
        assert row["annotator_ids"] == sorted(group["annotator_id"])
        assert row["num_annotators"] == len(group)

"""Preferences and annotations files: the contract checks (as check_contract.py makes them),
bad columns and values, and Parquet ↔ JSONL agreement."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pandas.api.types as ptypes
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from robopref.errors import InputError
from robopref.release import ReleaseResult, check_annotations, check_preferences
from robopref.release.parquet import CONTRACT_COLUMNS
from robopref.schemas import ANNOTATIONS_SCHEMA, PREFERENCES_SCHEMA, id_problem, text_problem
from robopref.tables import write_table_files

from .conftest import Trained


def contract_findings(path: Path) -> list[str]:
    """The checks of `/work/shared/tools/check_contract.py preferences FILE`, replicated."""
    p = pd.read_parquet(path)
    out = [f"column {c} missing" for c in CONTRACT_COLUMNS if c not in p.columns]
    if "preference" in p and not set(p.preference.unique()) <= {0.0, 0.5, 1.0}:
        out.append("preference values outside {0.0, 0.5, 1.0}")
    if "agreement" in p and not p.agreement.between(0, 1).all():
        out.append("agreement outside [0, 1]")
    if "pair_id" in p and p.pair_id.duplicated().any():
        out.append("pair_id not unique")
    if {"trajectory_a_id", "trajectory_b_id"} <= set(p.columns) and (
        p.trajectory_a_id == p.trajectory_b_id
    ).any():
        out.append("a pair compares a trajectory with itself")
    return out


def test_released_preferences_pass_the_contract(built: ReleaseResult) -> None:
    path = built.folder / "preferences.parquet"
    assert contract_findings(path) == []
    table = pq.read_table(path)
    assert table.schema.equals(PREFERENCES_SCHEMA, check_metadata=False)
    assert table.schema.metadata[b"schema_version"] == b"1"
    frame = table.to_pandas()
    assert ptypes.is_float_dtype(frame["preference"])
    assert ptypes.is_integer_dtype(frame["num_annotators"])


def test_contract_replica_catches_what_the_tool_catches(tmp_path: Path) -> None:
    bad = pd.DataFrame(
        {
            "pair_id": ["p", "p"],
            "trajectory_a_id": ["a", "b"],
            "trajectory_b_id": ["a", "c"],
            "preference": [1.0, 0.7],
            "agreement": [1.0, 1.5],
        }
    )
    bad.to_parquet(tmp_path / "bad.parquet")
    findings = contract_findings(tmp_path / "bad.parquet")
    assert len(findings) == 3 + 4  # 3 missing columns + 4 value problems


def test_jsonl_and_parquet_hold_the_same_rows(built: ReleaseResult) -> None:
    for stem in ("preferences", "annotations"):
        parquet = pq.read_table(built.folder / f"{stem}.parquet").to_pylist()
        lines = (built.folder / f"{stem}.jsonl").read_text().splitlines()
        rows = [json.loads(line) for line in lines]
        assert len(rows) == len(parquet)
        for a, b in zip(parquet, rows, strict=True):
            assert list(a) == list(b)
            assert {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in a.items()} == b


def test_released_annotations_keep_the_raw_schema(built: ReleaseResult, trained: Trained) -> None:
    table = pq.read_table(built.folder / "annotations.parquet")
    assert table.schema.equals(ANNOTATIONS_SCHEMA, check_metadata=False)
    assert table.num_rows == len(pd.read_parquet(trained.annotations))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda f: f.drop(columns=["annotator_ids"]), "annotator_ids"),
        (lambda f: f.assign(preference=0.7), "preference"),
        (lambda f: f.assign(agreement=1.5), "agreement"),
        (lambda f: f.assign(pair_id="same"), "pair_id"),
        (lambda f: f.assign(trajectory_b_id=f["trajectory_a_id"]), "trajectory_b_id"),
        (lambda f: f.assign(num_annotators="two"), "num_annotators"),
    ],
)
def test_bad_preferences_name_the_field(trained: Trained, change: object, field: str) -> None:
    frame = pd.read_parquet(trained.preferences)
    with pytest.raises(InputError) as info:
        check_preferences(change(frame), "prefs.parquet")  # type: ignore[operator]
    assert info.value.path == "prefs.parquet" and info.value.field == field


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda f: f.drop(columns=["created_at"]), "created_at"),
        (lambda f: f.assign(preference="left"), "preference"),
        (lambda f: f.assign(confidence=0), "confidence"),
    ],
)
def test_bad_annotations_name_the_field(trained: Trained, change: object, field: str) -> None:
    frame = pd.read_parquet(trained.annotations)
    with pytest.raises(InputError) as info:
        check_annotations(change(frame), "ann.parquet")  # type: ignore[operator]
    assert info.value.field == field


rows = st.lists(
    st.tuples(
        st.sampled_from([0.0, 0.5, 1.0]),
        st.floats(1, 5),
        st.integers(1, 5),
        st.lists(st.text(min_size=1, max_size=5).filter(lambda t: not id_problem(t)), max_size=3),
        st.one_of(st.none(), st.text(max_size=10).filter(lambda t: text_problem(t) is None)),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=15, deadline=None)
@given(rows=rows)
def test_preferences_round_trip_through_both_files(rows: list[tuple], tmp_path_factory) -> None:  # type: ignore[no-untyped-def, type-arg]
    frame = pd.DataFrame(
        {
            "pair_id": [f"p{i}" for i in range(len(rows))],
            "trajectory_a_id": [f"a{i}" for i in range(len(rows))],
            "trajectory_b_id": [f"b{i}" for i in range(len(rows))],
            "preference": [r[0] for r in rows],
            "confidence_mean": [r[1] for r in rows],
            "num_annotators": [r[2] for r in rows],
            "agreement": [1.0] * len(rows),
            "annotator_ids": [r[3] for r in rows],
            "task": [r[4] for r in rows],
        }
    )
    folder = tmp_path_factory.mktemp("rt")
    files = write_table_files(check_preferences(frame, "rows"), folder, "preferences")
    back = pq.read_table(files.parquet).to_pylist()
    text = files.jsonl.read_text(encoding="utf-8")
    assert len(text.splitlines()) == len(rows)  # no stray line breaks inside strings
    lines = [json.loads(x) for x in text.splitlines()]
    assert back == lines
    assert [r["annotator_ids"] for r in back] == [r[3] for r in rows]
    assert [r["task"] for r in back] == [r[4] for r in rows]
    assert all(r["source"] is None for r in back)

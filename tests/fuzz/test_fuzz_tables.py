"""Fuzz corpus of the table files the verbs read: annotations, pairs, preferences, rewards.

Each case copies valid inputs (a tiny pool and the table files made from it, as `robopref
pairs`, `annotate` and `qa` write them, in Parquet and JSONL) into the case folder, breaks one
file — truncation, a JSONL line that is not an object, a value of the wrong type, NaN/inf,
null, duplicate, self-compared and hostile ids, control characters, huge values, a missing
column — and runs the verb that reads it in a subprocess: `qa`, `train`, `validate
--rewards --test-pairs` and `release`. Each must exit 2 with an `error:` line naming the file
and the column (or JSONL line), change nothing and leave no output (tests/fuzz/harness.py).
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
from tests.fuzz.harness import Case, assert_refused, run_case, run_cli

from robopref.schemas import ANNOTATIONS_SCHEMA, PREFERENCES_SCHEMA
from robopref.tables import write_table_files
from robopref.testing import synthetic_preferences, tiny_pool

ANNOTATORS = ("ann-1", "ann-2", "ann-3")

VERBS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "qa": (("qa", "annotations.jsonl", "pairs.jsonl", "--out", "qa"), ("qa",)),
    "qa-parquet": (("qa", "annotations.parquet", "pairs.parquet", "--out", "qa"), ("qa",)),
    "train": (
        (
            *("train", "preferences.jsonl", "pool", "--out", "model", "--encoder", "state"),
            *("--epochs", "1", "--ensemble", "1", "--no-language", "--device", "cpu"),
        ),
        ("model",),
    ),
    "validate": (
        (
            *("validate", "pool", "--rewards", "rewards.jsonl"),
            *("--test-pairs", "preferences.jsonl", "--out", "validation"),
        ),
        ("validation",),
    ),
    "release": (
        (
            *("release", "preferences.jsonl", "pool", "--annotations", "annotations.jsonl"),
            *("--no-onnx", "--no-pt", "--out", "release"),
        ),
        ("release",),
    ),
}
"""Verb → (arguments reading the table files, relative to the case folder; its outputs)."""

SLOW_VERBS = {"train", "validate", "release"}
"""Verbs that import torch, matplotlib or scipy before reading: seconds per case."""


# --- the valid inputs -----------------------------------------------------------------------------


def build_base(folder: Path) -> None:
    """A tiny pool and every table file made from it, each as .parquet and .jsonl."""
    pool = tiny_pool(folder / "pool", n=10, n_steps=12, frame_size=None)
    prefs = synthetic_preferences(pool, n_pairs=24, seed=0, epsilon=0.1)
    quartile = dict(zip(pool.manifest["trajectory_id"], pool.manifest["quartile"], strict=True))
    pairs = pd.DataFrame(
        {
            "pair_id": prefs["pair_id"], "batch_id": "b1",
            "trajectory_a_id": prefs["trajectory_a_id"],
            "trajectory_b_id": prefs["trajectory_b_id"], "task": prefs["task"], "kind": "regular",
            "stratum": "same", "quartile_a": prefs["trajectory_a_id"].map(quartile),
            "quartile_b": prefs["trajectory_b_id"].map(quartile), "expected_preference": None,
            "duplicate_of": None,
        }
    )  # fmt: skip
    _write(folder, "preferences", pa.Table.from_pandas(prefs, schema=PREFERENCES_SCHEMA))
    _write(folder, "pairs", pa.Table.from_pandas(pairs, preserve_index=False))
    annotations = pa.Table.from_pylist(_annotations(prefs), schema=ANNOTATIONS_SCHEMA)
    _write(folder, "annotations", annotations)
    rewards = pool.manifest[["trajectory_id", "quality_score"]].rename(
        columns={"quality_score": "reward"}
    )
    _write(folder, "rewards", pa.Table.from_pandas(rewards, preserve_index=False))


def _write(folder: Path, stem: str, table: pa.Table) -> None:
    write_table_files(table, folder, stem)


def _annotations(prefs: pd.DataFrame) -> list[dict[str, Any]]:
    """Three answers per pair that agree with its label."""
    start = datetime(2025, 5, 1, tzinfo=UTC)
    answer = {1.0: "A", 0.0: "B", 0.5: "equal"}
    return [
        {
            "annotation_id": f"an-{i:03d}-{k}", "pair_id": p.pair_id,
            "trajectory_a_id": p.trajectory_a_id, "trajectory_b_id": p.trajectory_b_id,
            "annotator_id": who, "preference": answer[p.preference], "confidence": 4,
            "response_time_ms": 7000 + 10 * i, "free_text_reason": None,
            "left_trajectory_id": p.trajectory_a_id if (i + k) % 2 else p.trajectory_b_id,
            "batch_id": "b1", "rubric_answers": None, "interface_version": "web-1",
            "shown_at": start + timedelta(seconds=30 * i),
            "created_at": start + timedelta(seconds=30 * i + 9),
        }
        for i, p in enumerate(prefs.itertuples())
        for k, who in enumerate(ANNOTATORS)
    ]


# --- mutators -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    """One broken table file, the verb that reads it and what the error must name."""

    name: str
    verb: str
    file: str
    field: str
    mutate: Callable[[Path], None]


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _dump(path: Path, rows: list[Any]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def set_value(file: str, column: str, value: Any, row: int = 1) -> Callable[[Path], None]:
    """`column` of JSONL row `row` (0-based) set to `value` (NaN/inf as JSON extensions)."""

    def mutate(case: Path) -> None:
        rows = _rows(case / file)
        rows[row][column] = value
        _dump(case / file, rows)

    return mutate


def edit_rows(file: str, edit: Callable[[list[dict[str, Any]]], Any]) -> Callable[[Path], None]:
    def mutate(case: Path) -> None:
        rows = _rows(case / file)
        _dump(case / file, edit(rows) or rows)

    return mutate


def replace_line(file: str, line: int, text: bytes) -> Callable[[Path], None]:
    """JSONL line `line` (1-based) replaced by raw bytes."""

    def mutate(case: Path) -> None:
        lines = (case / file).read_bytes().split(b"\n")
        lines[line - 1] = text
        (case / file).write_bytes(b"\n".join(lines))

    return mutate


def truncate(file: str, at: float) -> Callable[[Path], None]:
    """The file cut at a fraction of its length, or `at` bytes from its end if negative."""

    def mutate(case: Path) -> None:
        data = (case / file).read_bytes()
        (case / file).write_bytes(data[: int(at) if at < 0 else int(len(data) * at)])

    return mutate


def write_bytes(file: str, data: bytes) -> Callable[[Path], None]:
    def mutate(case: Path) -> None:
        (case / file).write_bytes(data)

    return mutate


def _same_answer_twice(rows: list[dict[str, Any]]) -> None:
    rows[4] = {**rows[1], "annotation_id": "an-copy"}


def _pair_answered_but_absent(rows: list[dict[str, Any]]) -> None:
    rows[2]["pair_id"] = "no-such-pair"


def _self_pair(rows: list[dict[str, Any]]) -> None:
    rows[3]["trajectory_b_id"] = rows[3]["trajectory_a_id"]


def _first_id_twice(column: str) -> Callable[[list[dict[str, Any]]], None]:
    def edit(rows: list[dict[str, Any]]) -> None:
        rows[5][column] = rows[0][column]

    return edit


def _drop(column: str) -> Callable[[list[dict[str, Any]]], None]:
    def edit(rows: list[dict[str, Any]]) -> None:
        for row in rows:
            row.pop(column)

    return edit


# --- the corpus -----------------------------------------------------------------------------------


def qa_variants() -> list[Variant]:
    """Annotations and pairs through `qa` (the cheapest verb: most of the corpus)."""
    a, p = "annotations.jsonl", "pairs.jsonl"
    out = [
        Variant(f"annotations.parquet-{label}", "qa-parquet", "annotations.parquet",
                "annotations", truncate("annotations.parquet", fraction))
        for label, fraction in (("empty", 0.0), ("cut@1/4", 0.25), ("cut@1/2", 0.5),
                                ("cut@-8", -8))
    ]  # fmt: skip
    lines = {"list": b"[1, 2]", "number": b"42", "invalid": b'{"pair_id": ', "latin1": b"\xe9t\xe9"}
    out += [Variant(f"annotations-line-{k}", "qa", a, "line 3", replace_line(a, 3, v))
            for k, v in lines.items()]  # fmt: skip
    values = [
        ("pair_id", "null", None), ("annotator_id", "nul", "ann\x00-1"),
        ("annotator_id", "huge", "y" * 100_000), ("annotator_id", "empty", ""),
        ("annotator_id", "newline", "ann\n2"), ("preference", "left", "left"),
        ("preference", "int", 1), ("confidence", "zero", 0), ("confidence", "six", 6),
        ("confidence", "str", "ten"), ("confidence", "fraction", 2.5),
        ("confidence", "nan", math.nan), ("response_time_ms", "negative", -1),
        ("response_time_ms", "huge", 1e30), ("left_trajectory_id", "list", ["syn-00-000"]),
        ("created_at", "yesterday", "yesterday"), ("free_text_reason", "nul", "bad\x00reason"),
    ]  # fmt: skip
    out += [Variant(f"annotations-{c}={label}", "qa", a, c, set_value(a, c, v))
            for c, label, v in values]  # fmt: skip
    out += [
        Variant("annotations-same-answer-twice", "qa", a, "pair_id+annotator_id",
                edit_rows(a, _same_answer_twice)),
        Variant("annotations-unknown-pair", "qa", a, "pair_id",
                edit_rows(a, _pair_answered_but_absent)),
        Variant("annotations-no-confidence", "qa", a, "confidence",
                edit_rows(a, _drop("confidence"))),
        Variant("pairs.parquet-garbage", "qa-parquet", "pairs.parquet", "pairs",
                write_bytes("pairs.parquet", b"PAR1 not really PAR1")),
        Variant("pairs-line-list", "qa", p, "line 2", replace_line(p, 2, b"[]")),
        Variant("pairs-duplicate-id", "qa", p, "pair_id", edit_rows(p, _first_id_twice("pair_id"))),
        Variant("pairs-self-compared", "qa", p, "trajectory_b_id", edit_rows(p, _self_pair)),
        Variant("pairs-no-kind", "qa", p, "kind", edit_rows(p, _drop("kind"))),
    ]  # fmt: skip
    pair_values = [
        ("kind", "bogus", "bogus"), ("quartile_a", "five", 5), ("stratum", "null", None),
        ("task", "nul", "reach\x00"), ("duplicate_of", "bidi", "caméra\u202e"),
        ("batch_id", "dict", {"id": 1}),
    ]  # fmt: skip
    out += [Variant(f"pairs-{c}={label}", "qa", p, c, set_value(p, c, v))
            for c, label, v in pair_values]  # fmt: skip
    return out


def slow_variants() -> list[Variant]:
    """Preferences through train, validate and release; rewards through validate.

    Few: these verbs import torch, matplotlib or scipy first (seconds per case); every class
    of value error they share with qa is in `qa_variants` and in tests/test_tables.py.
    """
    f, r = "preferences.jsonl", "rewards.jsonl"
    return [
        Variant("train-preferences-line-number", "train", f, "line 2", replace_line(f, 2, b"7")),
        Variant("train-preference=A", "train", f, "preference", set_value(f, "preference", "A")),
        Variant("train-not-in-pool", "train", f, "trajectory_a_id",
                set_value(f, "trajectory_a_id", "../../escaped")),
        Variant("train-too-few-pairs", "train", f, "pair_id", edit_rows(f, lambda rows: rows[:4])),
        Variant("validate-rewards.parquet-cut@1/2", "validate", "rewards.parquet", "rewards",
                truncate("rewards.parquet", 0.5)),
        Variant("validate-rewards-duplicate", "validate", r, "trajectory_id",
                edit_rows(r, _first_id_twice("trajectory_id"))),
        Variant("validate-preference=1.5", "validate", f, "preference",
                set_value(f, "preference", 1.5)),
        Variant("release-preference=0.7", "release", f, "preference",
                set_value(f, "preference", 0.7)),
        Variant("release-annotations-confidence=9", "release", "annotations.jsonl",
                "confidence", set_value("annotations.jsonl", "confidence", 9)),
    ]  # fmt: skip


VARIANTS = {v.name: v for v in qa_variants() + slow_variants()}


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tables-base")
    build_base(folder)
    return folder


def _copy_base(base: Path, case: Path) -> None:
    for entry in base.iterdir():
        copy = shutil.copytree if entry.is_dir() else shutil.copy2
        copy(entry, case / entry.name)


def test_the_base_inputs_are_valid(base: Path, fuzz_dir: Path) -> None:
    """QA accepts the unbroken files (Parquet and JSONL), so each case fails for its break."""
    _copy_base(base, fuzz_dir)
    for verb in ("qa", "qa-parquet"):
        args = (*VERBS[verb][0][:-1], f"{verb}-out")
        outcome = run_cli(args, cwd=fuzz_dir)
        assert outcome.returncode == 0, outcome.stderr[-2000:]


def _params() -> list[Any]:
    return [
        pytest.param(name, id=name, marks=[pytest.mark.slow] if v.verb in SLOW_VERBS else [])
        for name, v in VARIANTS.items()
    ]


@pytest.mark.parametrize("name", _params())
def test_malformed_table_is_refused(base: Path, fuzz_dir: Path, name: str) -> None:
    variant = VARIANTS[name]
    if variant.verb == "validate" and variant.file == "rewards.parquet":
        args = tuple(a.replace("rewards.jsonl", "rewards.parquet") for a in VERBS["validate"][0])
    else:
        args = VERBS[variant.verb][0]
    _copy_base(base, fuzz_dir)
    variant.mutate(fuzz_dir)
    case = Case(name, args, variant.file, variant.field, VERBS[variant.verb][1])
    outcome = run_case(case, fuzz_dir)
    assert_refused(case, outcome)


def test_the_corpus_is_bounded() -> None:
    assert len(VARIANTS) <= 80
    assert len(VARIANTS) == len(qa_variants() + slow_variants())  # names are unique

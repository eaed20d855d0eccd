from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from robopref.errors import InputError
from robopref.pairs import PairsConfig, select_pairs
from robopref.pairs.sampling import unrank_pairs, water_fill

ANNOTATORS = [f"ann-{i}" for i in range(5)]


def _batch(manifest: pd.DataFrame, **overrides: object):  # type: ignore[no-untyped-def]
    return select_pairs(manifest, PairsConfig(**overrides), annotator_ids=ANNOTATORS)  # type: ignore[arg-type]


def test_stratum_mix_matches_config(manifest: pd.DataFrame) -> None:
    pairs = _batch(manifest, batch_size=300).pairs_frame()
    base = pairs[pairs["kind"] != "duplicate"]
    assert len(base) == 300
    counts = base["stratum"].value_counts(normalize=True)
    assert counts["adjacent"] == pytest.approx(0.4, abs=0.01)
    assert counts["same"] == pytest.approx(0.3, abs=0.01)
    assert counts["distant"] == pytest.approx(0.3, abs=0.01)
    gap = (base["quartile_a"] - base["quartile_b"]).abs()
    assert (gap[base["stratum"] == "same"] == 0).all()
    assert (gap[base["stratum"] == "adjacent"] == 1).all()
    assert (gap[base["stratum"] == "distant"] >= 2).all()


def test_pairs_are_spread_over_tasks_and_quartile_cells(manifest: pd.DataFrame) -> None:
    base = _batch(manifest, batch_size=300).pairs_frame()
    base = base[base["kind"] != "duplicate"]
    assert base["task"].value_counts().min() >= 140
    cells = Counter(
        tuple(sorted(q)) for q in zip(base["quartile_a"], base["quartile_b"], strict=True)
    )
    assert len(cells) == 10  # every quartile combination is drawn


def test_no_self_pairs_same_task_and_no_repeats(manifest: pd.DataFrame) -> None:
    batch = _batch(manifest, batch_size=400)
    task_of = dict(zip(manifest["trajectory_id"], manifest["task"], strict=True))
    for p in batch.pairs:
        assert p.trajectory_a_id != p.trajectory_b_id
        assert task_of[p.trajectory_a_id] == task_of[p.trajectory_b_id] == p.task
    keys = [
        frozenset((p.trajectory_a_id, p.trajectory_b_id))
        for p in batch.pairs
        if p.kind.value != "duplicate"
    ]
    assert len(keys) == len(set(keys))
    assert len({p.pair_id for p in batch.pairs}) == len(batch.pairs)


def test_cross_task_option_mixes_tasks(manifest: pd.DataFrame) -> None:
    batch = _batch(manifest, batch_size=300, cross_task=True)
    task_of = dict(zip(manifest["trajectory_id"], manifest["task"], strict=True))
    mixed = [p for p in batch.pairs if task_of[p.trajectory_a_id] != task_of[p.trajectory_b_id]]
    assert len(mixed) > 50
    assert all(" | " in p.task for p in mixed)


def test_each_pair_has_distinct_annotators_and_loads_are_balanced(manifest: pd.DataFrame) -> None:
    batch = _batch(manifest, batch_size=301, annotators_per_pair=3)
    frame = batch.assignments_frame()
    per_pair = frame.groupby("pair_id")["annotator_id"].agg(["count", "nunique"])
    kinds = batch.pairs_frame().set_index("pair_id")["kind"]
    regular = per_pair[kinds.loc[per_pair.index] != "duplicate"]
    assert (regular["count"] == 3).all() and (regular["nunique"] == 3).all()
    loads = frame["annotator_id"].value_counts()
    assert set(loads.index) == set(ANNOTATORS)
    assert loads.max() - loads.min() <= 1


def test_left_side_is_randomised(manifest: pd.DataFrame) -> None:
    batch = _batch(manifest, batch_size=400)
    pairs = {p.pair_id: p for p in batch.pairs}
    left_is_a = [
        pairs[a.pair_id].trajectory_a_id == a.left_trajectory_id for a in batch.assignments
    ]
    assert all(
        a.left_trajectory_id in (pairs[a.pair_id].trajectory_a_id, pairs[a.pair_id].trajectory_b_id)
        for a in batch.assignments
    )
    assert 0.45 < np.mean(left_is_a) < 0.55


def test_duplicates_are_reversed_and_go_to_the_same_annotator(manifest: pd.DataFrame) -> None:
    batch = _batch(manifest, batch_size=200, duplicate_frac=0.08)
    pairs = {p.pair_id: p for p in batch.pairs}
    position = {p.pair_id: i for i, p in enumerate(batch.pairs)}
    dups = [p for p in batch.pairs if p.kind.value == "duplicate"]
    assert len(dups) == 16
    assert len({d.duplicate_of for d in dups}) == len(dups)
    shown = {(a.pair_id, a.annotator_id): a.left_trajectory_id for a in batch.assignments}
    for dup in dups:
        original = pairs[dup.duplicate_of]  # type: ignore[index]
        assert (dup.trajectory_a_id, dup.trajectory_b_id) == (
            original.trajectory_b_id,
            original.trajectory_a_id,
        )
        assert (dup.quartile_a, dup.quartile_b) == (original.quartile_b, original.quartile_a)
        assert position[dup.pair_id] > position[original.pair_id]
        (annotator,) = [a.annotator_id for a in batch.assignments if a.pair_id == dup.pair_id]
        assert (original.pair_id, annotator) in shown
        assert shown[(dup.pair_id, annotator)] != shown[(original.pair_id, annotator)]
        if original.expected is not None:
            assert dup.expected is not None and dup.expected != original.expected


def test_selection_is_deterministic_for_a_seed(manifest: pd.DataFrame) -> None:
    first, again = _batch(manifest, seed=3), _batch(manifest, seed=3)
    pd.testing.assert_frame_equal(first.pairs_frame(), again.pairs_frame())
    pd.testing.assert_frame_equal(first.assignments_frame(), again.assignments_frame())
    other = _batch(manifest, seed=4).pairs_frame()
    assert first.batch_id != _batch(manifest, seed=4).batch_id
    assert set(other["trajectory_a_id"] + other["trajectory_b_id"]) != set(
        first.pairs_frame()["trajectory_a_id"] + first.pairs_frame()["trajectory_b_id"]
    )


def test_gold_pairs_expect_the_higher_score(manifest: pd.DataFrame) -> None:
    frame = _batch(manifest, batch_size=300).pairs_frame()
    score = dict(zip(manifest["trajectory_id"], manifest["quality_score"], strict=True))
    gold = frame[frame["kind"] == "gold"]
    assert len(gold) == 90  # every distant pair (scores are distinct) is gold
    for row in gold.itertuples():
        better_a = score[row.trajectory_a_id] > score[row.trajectory_b_id]
        assert row.expected_preference == ("A" if better_a else "B")
    assert frame.loc[frame["kind"] == "regular", "expected_preference"].isna().all()
    assert set(gold["expected_preference"]) == {"A", "B"}


def test_equal_scores_never_make_gold_pairs(make_manifest: Callable[..., pd.DataFrame]) -> None:
    manifest = make_manifest(n=80)
    manifest["quality_score"] = manifest["quality_score"].round(0)  # many ties
    frame = _batch(manifest, batch_size=60).pairs_frame()
    score = dict(zip(manifest["trajectory_id"], manifest["quality_score"], strict=True))
    distant = frame[frame["stratum"] == "distant"]
    assert all(
        score[a] != score[b]
        for a, b in zip(distant["trajectory_a_id"], distant["trajectory_b_id"], strict=True)
    )


def test_excluded_pairs_are_not_redrawn(manifest: pd.DataFrame) -> None:
    first = _batch(manifest, batch_size=300)
    used = [(p.trajectory_a_id, p.trajectory_b_id) for p in first.pairs]
    second = select_pairs(
        manifest, PairsConfig(batch_size=300), annotator_ids=ANNOTATORS, exclude=used
    )
    assert second.batch_id != first.batch_id
    again = {frozenset((p.trajectory_a_id, p.trajectory_b_id)) for p in second.pairs}
    assert not again & {frozenset(u) for u in used}


def test_too_small_pool_names_task_and_quartile(make_manifest: Callable[..., pd.DataFrame]) -> None:
    manifest = make_manifest(tasks=("reach",), n=12)
    with pytest.raises(InputError) as err:
        _batch(manifest, batch_size=300)
    message = str(err.value)
    assert "reach" in message and "q4=3" in message and "adjacent pairs requested" in message
    assert err.value.field == "quartile"


def test_uniform_pool_has_no_distant_pairs_to_offer(
    make_manifest: Callable[..., pd.DataFrame],
) -> None:
    manifest = make_manifest(tasks=("reach",), n=40)
    manifest["quality_score"] = 1.0
    with pytest.raises(InputError, match=r"distant pairs requested.*different quality scores"):
        _batch(manifest, batch_size=30)


def test_missing_column_is_an_input_error(manifest: pd.DataFrame) -> None:
    with pytest.raises(InputError) as err:
        _batch(manifest.drop(columns="quartile"))
    assert err.value.field == "quartile"


def test_too_few_annotators_is_an_input_error(manifest: pd.DataFrame) -> None:
    with pytest.raises(InputError, match="3 different"):
        select_pairs(manifest, PairsConfig(batch_size=20), annotator_ids=["a", "b"])


def test_selects_from_a_real_pool(tiny_pool: Callable[..., object]) -> None:
    pool = tiny_pool(n=24, frame_size=None, tasks=("reach red", "reach blue"))
    batch = select_pairs(
        pool.manifest,  # type: ignore[attr-defined]
        PairsConfig(batch_size=40, annotators_per_pair=2),
        annotator_ids=["a", "b", "c"],
    )
    assert len([p for p in batch.pairs if p.kind.value != "duplicate"]) == 40
    assert {p.task for p in batch.pairs} == {"reach red", "reach blue"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("batch_size", 0),
        ("frac_same", 0.5),
        ("annotators_per_pair", 1),
        ("duplicate_frac", 0.9),
        ("calibration_size", 0),
        ("ranking_set_size", 1),
    ],
)
def test_config_rejects_bad_values(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        PairsConfig(**{field: value})  # type: ignore[arg-type]


@given(st.integers(2, 300))
def test_unrank_pairs_enumerates_the_upper_triangle(n: int) -> None:
    i, j = unrank_pairs(np.arange(n * (n - 1) // 2), n)
    ei, ej = np.triu_indices(n, 1)
    assert np.array_equal(i, ei) and np.array_equal(j, ej)


@settings(max_examples=200)
@given(
    st.lists(st.tuples(st.floats(0.0, 10.0), st.integers(0, 50)), min_size=1, max_size=12),
    st.integers(0, 300),
)
def test_water_fill_respects_caps_and_total(cells: list[tuple[float, int]], total: int) -> None:
    weights = np.array([w for w, _ in cells])
    caps = np.array([c for _, c in cells])
    counts = water_fill(weights, caps, total)
    assert (counts >= 0).all() and (counts <= caps).all()
    assert counts.sum() == min(total, caps.sum())

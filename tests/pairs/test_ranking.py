from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from robopref.errors import InputError
from robopref.pairs import PairsConfig, RankingSetSpec, expand_ranking, select_ranking_sets
from robopref.types import BatchKind

ANNOTATORS = [f"ann-{i}" for i in range(5)]


def test_ranking_sets_hold_one_task_spread_over_quartiles(manifest: pd.DataFrame) -> None:
    batch = select_ranking_sets(
        manifest, PairsConfig(ranking_set_size=8), annotator_ids=ANNOTATORS, n_sets=10
    )
    assert batch.kind == BatchKind.RANKING and batch.pairs == ()
    rows = manifest.set_index("trajectory_id")
    for s in batch.ranking_sets:
        assert len(s.trajectory_ids) == len(set(s.trajectory_ids)) == 8
        assert set(rows.loc[list(s.trajectory_ids), "task"]) == {s.task}
        assert sorted(rows.loc[list(s.trajectory_ids), "quartile"].value_counts().tolist()) == [
            2,
            2,
            2,
            2,
        ]
        assert len(set(s.annotator_ids)) == 3
    assert {s.task for s in batch.ranking_sets} == {"reach", "push"}
    loads = pd.Series([a for s in batch.ranking_sets for a in s.annotator_ids]).value_counts()
    assert loads.max() - loads.min() <= 1


def test_ranking_sets_need_a_large_enough_task(make_manifest: Callable[..., pd.DataFrame]) -> None:
    with pytest.raises(InputError, match="largest task has 6"):
        select_ranking_sets(make_manifest(n=6), PairsConfig(), annotator_ids=ANNOTATORS, n_sets=1)


@given(st.integers(2, 10).flatmap(lambda n: st.permutations(list(range(n)))))
def test_expanded_ranking_agrees_with_positions(order: list[int]) -> None:
    ids = tuple(f"t{i}" for i in range(len(order)))
    ranking = RankingSetSpec(
        ranking_set_id="r-1", task="t", trajectory_ids=ids, annotator_ids=("a",)
    )
    ranked = [ids[i] for i in order]
    rows = expand_ranking(ranking, ranked, annotator_id="a", confidence=4)
    n = len(ids)
    assert len(rows) == n * (n - 1) // 2
    assert rows["pair_id"].is_unique
    assert (rows["ranking_set_id"] == "r-1").all() and (rows["annotator_id"] == "a").all()
    assert (rows["confidence"] == 4).all()
    for row in rows.itertuples():
        assert row.position_a == ranked.index(row.trajectory_a_id) + 1
        assert row.position_b == ranked.index(row.trajectory_b_id) + 1
        assert row.preference == ("A" if row.position_a < row.position_b else "B")
    wins = pd.concat(
        [
            rows.loc[rows["preference"] == "A", "trajectory_a_id"],
            rows.loc[rows["preference"] == "B", "trajectory_b_id"],
        ]
    ).value_counts()
    assert wins.get(ranked[0], 0) == n - 1 and wins.get(ranked[-1], 0) == 0


def test_expanded_pair_ids_agree_across_annotators() -> None:
    ranking = RankingSetSpec(
        ranking_set_id="r-2", task="t", trajectory_ids=("x", "y", "z"), annotator_ids=("a", "b")
    )
    one = expand_ranking(ranking, ["x", "y", "z"], annotator_id="a")
    two = expand_ranking(ranking, ["z", "y", "x"], annotator_id="b")
    assert one["pair_id"].tolist() == two["pair_id"].tolist()
    assert np.all(one["preference"].to_numpy() != two["preference"].to_numpy())


@pytest.mark.parametrize("ranked", [["x", "y"], ["x", "y", "y"], ["x", "y", "w"]])
def test_expand_ranking_rejects_a_wrong_list(ranked: list[str]) -> None:
    ranking = RankingSetSpec(
        ranking_set_id="r-3", task="t", trajectory_ids=("x", "y", "z"), annotator_ids=("a",)
    )
    with pytest.raises(InputError, match="exactly once"):
        expand_ranking(ranking, ranked, annotator_id="a")

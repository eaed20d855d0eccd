"""The label-efficiency loop on a synthetic pool: rounds, budget, held-out scores, refusals."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from robopref.campaign.heldout import split_held_out
from robopref.campaign.loop import AI_WEIGHTS, ROUND_COLUMNS, run_label_loop
from robopref.campaign.loop_config import LoopConfig, Strategy
from robopref.errors import InputError
from robopref.teachers.truth import truth_values
from robopref.testing import tiny_pool

SMALL = {
    "budget": 240, "bootstrap": 150, "round_size": 45, "annotators": 4,
    "annotators_per_pair": 3, "roster": "stochastic:3,mistake:1", "ensemble_size": 1,
    "epochs": 15, "test_pairs": 150,
}  # fmt: skip


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("loop") / "pool"
    return tiny_pool(root, n=40, frame_size=None, tasks=("reach the red target", "reach far"))


def test_rounds_spend_the_budget_and_learn(pool, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = LoopConfig(strategy=Strategy.RANDOM, **SMALL)  # type: ignore[arg-type]
    result = run_label_loop(pool, config, work_dir=tmp_path / "run")
    rounds = result.rounds
    assert list(rounds.columns) == list(ROUND_COLUMNS)
    assert len(rounds) >= 3  # bootstrap + at least two more rounds
    assert rounds["human_labels"].is_monotonic_increasing
    assert rounds["human_labels"].iloc[-1] <= config.budget
    assert rounds["human_labels"].iloc[-1] >= config.budget - config.round_size
    assert rounds["accuracy"].iloc[-1] > 0.75, rounds  # truth is learnable from state
    assert rounds["rho"].iloc[-1] > 0.6, rounds
    assert (tmp_path / "run" / "rounds.csv").is_file()


def test_stratified_bootstrap_never_uses_held_out_trajectories(pool, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = LoopConfig(strategy=Strategy.STRATIFIED, **{**SMALL, "budget": 150})  # type: ignore[arg-type]
    rounds = run_label_loop(pool, config, work_dir=tmp_path / "run").rounds
    assert len(rounds) == 1 and rounds["human_labels"].iloc[0] <= 150
    values = truth_values(pool.manifest, "true_return")
    held = split_held_out(pool.manifest, values, fraction=0.2, n_pairs=150, seed=0)
    from robopref.store import open_store, pairs_frame

    store = open_store(f"sqlite:///{tmp_path / 'run' / 'store.db'}", existing=True)
    try:
        pairs = pairs_frame(store)
        used = set(pairs[["trajectory_a_id", "trajectory_b_id"]].to_numpy().ravel())
        assert (pairs["kind"] == "gold").any()  # distant quartile pairs, as in production
    finally:
        store.dispose()
    assert used and not used & set(held.test_ids)
    assert set(held.pairs["trajectory_a_id"]) <= set(held.test_ids)


def test_refuses_a_used_folder_and_a_missing_truth(pool, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "x.txt").write_text("mine")
    with pytest.raises(InputError, match="work_dir"):
        run_label_loop(pool, LoopConfig(**SMALL), work_dir=tmp_path / "notes")  # type: ignore[arg-type]
    assert (tmp_path / "notes" / "x.txt").read_text() == "mine"
    frame = pool.manifest.assign(true_return=None)
    with pytest.raises(InputError, match="true_return"):
        truth_values(frame, "true_return")


def test_truth_pairs_follow_the_truth(pool) -> None:  # type: ignore[no-untyped-def]
    values = truth_values(pool.manifest, "true_return")
    held = split_held_out(pool.manifest, values, fraction=0.2, n_pairs=100, seed=3)
    a = values.loc[held.pairs["trajectory_a_id"]].to_numpy()
    b = values.loc[held.pairs["trajectory_b_id"]].to_numpy()
    assert ((a > b) == (held.pairs["preference"] == 1.0)).all()
    assert isinstance(held.pairs, pd.DataFrame) and len(held.pairs) > 50


def test_ai_round_trains_on_routed_labels_and_people_get_the_rest(pool, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    config = LoopConfig(  # type: ignore[arg-type]
        strategy=Strategy.ACTIVE_AI_PSEUDO, **{**SMALL, "budget": 195}, ai_per_round=60,
        ai_weight=None,
    )
    rounds = run_label_loop(pool, config, work_dir=tmp_path / "run").rounds
    assert len(rounds) >= 2 and rounds["ai_labels"].iloc[0] == 0
    ai = rounds.iloc[1]
    assert 0 < ai["ai_labels"] <= 60 and ai["train_pairs"] > ai["ai_labels"]
    assert ai["ai_accuracy"] > 0.7  # the rubric on observable metrics, routed
    assert ai["ai_weight"] in AI_WEIGHTS  # tuned on the people-only validation split
    assert rounds["human_labels"].iloc[-1] <= 195
    from robopref.store import annotations_frame, open_store

    store = open_store(f"sqlite:///{tmp_path / 'run' / 'store.db'}", existing=True)
    try:  # AI labels never enter the store as people's answers
        assert not annotations_frame(store)["interface_version"].str.startswith("ai:").any()
    finally:
        store.dispose()


def test_gold_answers_follow_the_people_s_truth(pool) -> None:  # type: ignore[no-untyped-def]
    from robopref.campaign.loop import gold_from_truth
    from robopref.pairs import PairsConfig, select_pairs
    from robopref.types import Choice, PairKind

    batch = select_pairs(pool.manifest, PairsConfig(batch_size=40, annotators_per_pair=3),
                         annotator_ids=["a", "b", "c"])  # fmt: skip
    inverted = -truth_values(pool.manifest, "true_return")  # a truth the rubric disagrees with
    graded = [p for p in gold_from_truth(batch, inverted).pairs if p.expected is not None]
    assert graded and any(p.kind is PairKind.GOLD for p in graded)
    for p in graded:
        better = inverted[p.trajectory_a_id] > inverted[p.trajectory_b_id]
        assert p.expected is (Choice.A if better else Choice.B)

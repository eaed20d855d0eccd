"""Pseudo-labels against known truth, and reward training reading their weight and source."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.pairs.conftest import TableEnsemble, truth_of

from robopref.pool import Pool
from robopref.reward import LossConfig, SplitKind, make_splits, read_preferences
from robopref.reward.data import pair_data
from robopref.teachers.pseudo import PseudoConfig, pseudo_label
from robopref.testing import synthetic_preferences, tiny_pool


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Pool:
    root = tmp_path_factory.mktemp("pseudo") / "pool"
    return tiny_pool(root, n=100, frame_size=None, tasks=("reach a", "reach b"))


def _correct(frame: pd.DataFrame, truth: dict[str, float], a_wins: np.ndarray) -> np.ndarray:
    pairs = zip(frame["trajectory_a_id"], frame["trajectory_b_id"], strict=True)
    gap = np.array([truth[a] - truth[b] for a, b in pairs])
    return (gap > 0) == a_wins


def _unsure_ensemble(truth: dict[str, float], seed: int) -> TableEnsemble:
    """Five members: close to the truth on 70 % of trajectories, far off (σ 6) on the rest.

    Members err independently, so where they are unsure they also disagree: what an
    ensemble's confidence is for.
    """
    rng = np.random.default_rng(seed)
    spread = {k: 6.0 if rng.random() < 0.3 else 0.3 for k in truth}
    return TableEnsemble({k: v + spread[k] * rng.standard_normal(5) for k, v in truth.items()})


def test_kept_pseudo_labels_are_more_accurate_than_rejected_ones(pool: Pool) -> None:
    m = pool.manifest
    truth = dict(zip(m["trajectory_id"], 5 * m.groupby("task")["quality_score"].rank(pct=True),
                     strict=True))  # fmt: skip
    kept_right, rejected_right = [], []
    for seed in range(3):
        result = pseudo_label(pool, _unsure_ensemble(truth, seed), config=PseudoConfig())
        cands = result.candidates
        correct = _correct(cands, truth, cands["p_a"].to_numpy() >= 0.5)
        kept = cands["kept"].to_numpy()
        kept_right += correct[kept].tolist()
        rejected_right += correct[~kept].tolist()
        labels = result.labels
        assert len(labels) == kept.sum()
        labels_right = _correct(labels, truth, labels["preference"].to_numpy() == 1.0)
        assert labels_right.mean() == pytest.approx(correct[kept].mean())
    assert len(kept_right) >= 300 and len(rejected_right) >= 300
    kept_error, rejected_error = 1 - np.mean(kept_right), 1 - np.mean(rejected_right)
    assert rejected_error > 2 * kept_error and rejected_error > 0.05, (kept_error, rejected_error)


def test_candidates_pair_the_top_and_bottom_fifth_of_one_task(pool: Pool) -> None:
    truth = truth_of(pool)
    scorer = TableEnsemble.noisy(truth, noise=0.0)
    result = pseudo_label(pool, scorer, config=PseudoConfig(max_pairs=10_000))
    m = pool.manifest.set_index("trajectory_id")
    rank = m.groupby("task")["quality_score"].rank(method="first", pct=True)
    c = result.candidates
    ends = [sorted((rank[a], rank[b])) for a, b in
            zip(c["trajectory_a_id"], c["trajectory_b_id"], strict=True)]  # fmt: skip
    assert all(lo <= 0.2 and hi > 0.8 for lo, hi in ends)
    assert (m.loc[c["trajectory_a_id"], "task"].to_numpy() == c["task"].to_numpy()).all()
    assert len(c) == 2 * 20 * 20  # every top × bottom pair of both tasks
    a_is_top = [rank[a] > 0.5 for a in c["trajectory_a_id"]]
    assert 0.3 < np.mean(a_is_top) < 0.7  # sides randomised


def test_the_table_has_the_contract_columns_weights_and_source(pool: Pool) -> None:
    scorer = TableEnsemble.noisy(truth_of(pool), noise=1.5)
    labels = pseudo_label(pool, scorer, config=PseudoConfig(threshold=0.8)).labels
    assert len(labels) > 0
    assert ((labels["weight"] >= 0) & (labels["weight"] <= 1)).all()
    assert labels["weight"].min() >= 2 * 0.8 - 1 - 1e-9  # confidence-weighted: c ≥ τ
    assert (labels["num_annotators"] == 0).all()
    assert labels["annotator_ids"].map(list).eq([["pseudo"]] * len(labels)).all()
    assert set(labels["label_source"]) == {"pseudo"} and set(labels["source"]) == {"pseudo"}
    assert labels["preference"].isin([0.0, 1.0]).all()
    assert labels["pair_id"].is_unique


def test_labelled_pairs_are_not_pseudo_labelled(pool: Pool) -> None:
    scorer = TableEnsemble.noisy(truth_of(pool), noise=0.01)
    every = pseudo_label(pool, scorer, config=PseudoConfig(max_pairs=10_000)).candidates
    labelled = list(
        zip(every["trajectory_b_id"][:300], every["trajectory_a_id"][:300], strict=True)
    )
    again = pseudo_label(pool, scorer, config=PseudoConfig(max_pairs=10_000), labelled=labelled)
    seen = {frozenset(p) for p in labelled}
    pairs = zip(
        again.candidates["trajectory_a_id"], again.candidates["trajectory_b_id"], strict=True
    )
    assert not any(frozenset(p) in seen for p in pairs)
    assert len(again.candidates) == len(every) - 300


def _mixed(pool: Pool) -> tuple[pd.DataFrame, pd.DataFrame]:
    human = synthetic_preferences(pool, n_pairs=1200, seed=0)  # ~12 pairs per trajectory
    scorer = TableEnsemble.noisy(truth_of(pool), noise=0.5)
    pseudo = pseudo_label(pool, scorer, config=PseudoConfig(max_pairs=400)).labels
    return human, pd.concat([human, pseudo], ignore_index=True)


@pytest.mark.parametrize("kind", [SplitKind.PAIR, SplitKind.TRAJECTORY])
def test_training_never_holds_out_pseudo_labels(pool: Pool, kind: SplitKind) -> None:
    human, mixed = _mixed(pool)
    args = {"kind": kind, "seed": 0, "val_fraction": 0.15, "test_fraction": 0.15}
    with_pseudo, without = make_splits(mixed, **args), make_splits(human, **args)  # type: ignore[arg-type]
    pseudo_ids = set(mixed.loc[mixed["label_source"] == "pseudo", "pair_id"])
    assert (with_pseudo.val, with_pseudo.test) == (without.val, without.test)
    assert not pseudo_ids & set(with_pseudo.val + with_pseudo.test)
    assert set(with_pseudo.train) - set(without.train) <= pseudo_ids
    assert len(set(with_pseudo.train) & pseudo_ids) > 0
    if kind is SplitKind.TRAJECTORY:  # pseudo pairs touching held-out trajectories: left out
        people = {t for p in human["pair_id"] for t in _ends(human, p)}
        trained = {t for p in without.train for t in _ends(human, p)}
        held = people - trained  # every held-out trajectory is here
        kept = set(with_pseudo.train) & pseudo_ids
        assert not any(set(_ends(mixed, p)) & held for p in kept)
        assert len(kept) < len(pseudo_ids)


def _ends(prefs: pd.DataFrame, pair_id: str) -> tuple[str, str]:
    row = prefs.loc[prefs["pair_id"] == pair_id].iloc[0]
    return str(row["trajectory_a_id"]), str(row["trajectory_b_id"])


def test_training_reads_the_weight_column_from_a_file(pool: Pool, tmp_path: Path) -> None:
    human, mixed = _mixed(pool)
    path = tmp_path / "mixed.parquet"
    pq.write_table(pa.Table.from_pandas(mixed, preserve_index=False), path)
    read = read_preferences(path)
    row_of = {t: i for i, t in enumerate(truth_of(pool))}
    loss = LossConfig(weight_by_confidence=True)
    weight = pair_data(read, row_of, loss).targets.weight.numpy()
    is_pseudo = (read["label_source"] == "pseudo").to_numpy()
    assert np.allclose(weight[is_pseudo], read.loc[is_pseudo, "weight"].to_numpy())
    assert np.allclose(weight[~is_pseudo], read.loc[~is_pseudo, "confidence_mean"] / 5.0)
    plain = pair_data(human, row_of, loss).targets.weight.numpy()  # no columns: as before
    assert np.allclose(plain, human["confidence_mean"] / 5.0)


def test_a_negative_weight_is_refused_naming_the_column(pool: Pool, tmp_path: Path) -> None:
    from robopref.errors import InputError

    _, mixed = _mixed(pool)
    mixed.loc[mixed.index[-1], "weight"] = -0.5
    path = tmp_path / "bad.parquet"
    pq.write_table(pa.Table.from_pandas(mixed, preserve_index=False), path)
    with pytest.raises(InputError) as err:
        read_preferences(path)
    assert err.value.field == "weight" and err.value.path == str(path)


def test_reward_training_trains_on_pseudo_labels_and_tests_on_people_only(pool: Pool) -> None:
    from tests.reward.conftest import state_config

    from robopref.reward import train_reward_model

    human, mixed = _mixed(pool)
    config = state_config(epochs=3, patience=3)
    result = train_reward_model(mixed, pool, config)
    alone = train_reward_model(human, pool, config)
    n_pseudo = int((mixed["label_source"] == "pseudo").sum())
    assert result.metrics["n_test"] == alone.metrics["n_test"]
    assert result.metrics["n_train"] == alone.metrics["n_train"] + n_pseudo
    assert set(result.pairs("test")["pair_id"]) == set(alone.pairs("test")["pair_id"])

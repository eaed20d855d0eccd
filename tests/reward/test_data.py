from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from robopref.errors import InputError
from robopref.pool import Pool
from robopref.reward import SplitKind, Splits, make_splits, read_preferences, train_reward_model
from robopref.reward.features import subsample_indices
from robopref.testing import write_preferences

from .conftest import state_config


def split(prefs: pd.DataFrame, kind: SplitKind, seed: int = 0) -> Splits:
    return make_splits(prefs, kind=kind, seed=seed, val_fraction=0.15, test_fraction=0.15)


def trajectories(prefs: pd.DataFrame, pair_ids: tuple[str, ...]) -> set[str]:
    rows = prefs[prefs["pair_id"].isin(pair_ids)]
    return set(rows["trajectory_a_id"]) | set(rows["trajectory_b_id"])


def test_pair_split_holds_out_disjoint_70_15_15(state_prefs: pd.DataFrame) -> None:
    s = split(state_prefs, SplitKind.PAIR)
    train, val, test = set(s.train), set(s.val), set(s.test)
    assert not (train & test) and not (val & test) and not (train & val)
    assert train | val | test == set(state_prefs["pair_id"])
    assert (len(train), len(val), len(test)) == (280, 60, 60)


def test_trajectory_split_shares_no_trajectory_with_training(state_prefs: pd.DataFrame) -> None:
    s = split(state_prefs, SplitKind.TRAJECTORY)
    train = trajectories(state_prefs, s.train)
    val_only = trajectories(state_prefs, s.val) - train
    test_only = trajectories(state_prefs, s.test) - train - trajectories(state_prefs, s.val)
    assert val_only and test_only  # some trajectories are held out entirely
    # every test pair has a trajectory no training or validation pair contains
    for pid in s.test:
        row = state_prefs.set_index("pair_id").loc[pid]
        assert {row["trajectory_a_id"], row["trajectory_b_id"]} & test_only
    assert not (train & test_only) and not (train & val_only)
    assert set(s.train) | set(s.val) | set(s.test) == set(state_prefs["pair_id"])
    assert 0.08 < len(s.test) / len(state_prefs) < 0.25  # about 15% of the pairs


@pytest.mark.parametrize("kind", list(SplitKind))
def test_split_depends_on_seed_not_row_order(state_prefs: pd.DataFrame, kind: SplitKind) -> None:
    shuffled = state_prefs.sample(frac=1.0, random_state=3)
    assert split(state_prefs, kind) == split(shuffled, kind)
    assert split(state_prefs, kind).test != split(state_prefs, kind, seed=1).test


def test_splits_json_round_trip(state_prefs: pd.DataFrame) -> None:
    s = split(state_prefs, SplitKind.TRAJECTORY, seed=4)
    assert Splits.from_json(s.to_json()) == s


def test_training_never_sees_test_pairs(state_prefs: pd.DataFrame, state_pool: Pool) -> None:
    result = train_reward_model(state_prefs, state_pool, state_config(epochs=2))
    test = result.pairs("test")
    assert set(test["pair_id"]) == set(result.splits.test)
    assert not set(test["pair_id"]) & set(result.pairs("train")["pair_id"])
    assert result.metrics["n_test"] == len(result.splits.test) == 60


def test_missing_trajectory_ids_name_the_file_and_column(
    state_prefs: pd.DataFrame, state_pool: Pool, tmp_path: Path
) -> None:
    bad = state_prefs.copy()
    bad.loc[3, "trajectory_b_id"] = "no-such-trajectory"
    path = write_preferences(bad, tmp_path / "bad.parquet")
    with pytest.raises(InputError) as caught:
        train_reward_model(path, state_pool, state_config(epochs=1))
    assert caught.value.field == "trajectory_b_id"
    assert str(path) in str(caught.value) and "no-such-trajectory" in str(caught.value)


@pytest.mark.parametrize("column", ["preference", "trajectory_a_id", "agreement"])
def test_missing_column_names_the_file_and_field(
    state_prefs: pd.DataFrame, tmp_path: Path, column: str
) -> None:
    path = tmp_path / "wrong.parquet"
    pq.write_table(pa.Table.from_pandas(state_prefs.drop(columns=[column])), path)
    with pytest.raises(InputError) as caught:
        read_preferences(path)
    assert caught.value.field == column and caught.value.path == str(path)


@pytest.mark.parametrize(
    ("column", "value"), [("preference", 2.0), ("agreement", -0.1), ("confidence_mean", np.nan)]
)
def test_out_of_range_values_are_rejected(
    state_prefs: pd.DataFrame, tmp_path: Path, column: str, value: float
) -> None:
    bad = state_prefs.copy()
    bad[column] = bad[column].astype(float)
    bad.loc[5, column] = value
    path = tmp_path / "range.parquet"
    bad.to_parquet(path)
    with pytest.raises(InputError, match=column):
        read_preferences(path)


def test_unreadable_file_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "garbage.parquet"
    path.write_bytes(b"not parquet")
    with pytest.raises(InputError, match=r"garbage\.parquet"):
        read_preferences(path)


def test_jsonl_preferences_read_like_parquet(state_prefs: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "prefs.jsonl"
    state_prefs.to_json(path, orient="records", lines=True)
    back = read_preferences(path)
    assert back["pair_id"].tolist() == state_prefs["pair_id"].tolist()
    assert back["preference"].tolist() == state_prefs["preference"].tolist()


@given(st.integers(2, 500), st.integers(1, 64))
def test_subsampling_covers_the_episode_in_order(n_total: int, n_steps: int) -> None:
    idx = subsample_indices(n_total, n_steps)
    assert len(idx) == n_steps and idx.min() >= 0 and idx.max() <= n_total - 1
    assert np.all(np.diff(idx) >= 0)
    if n_steps >= 2:
        assert idx[0] == 0 and idx[-1] == n_total - 1

"""`run_validation` with a real checkpoint: the test split comes from MODEL/split.json."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from robopref.errors import InputError
from robopref.pool import Pool
from robopref.validate import held_out_pairs, read_report, run_validation

from .conftest import pairs_from_truth


@pytest.fixture(scope="module")
def trained(pool_without_frames: Pool, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """preferences.parquet and a small state-encoder checkpoint trained on it."""
    import torch

    from robopref.reward import EncoderConfig, TrainConfig, train_reward_model

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("run")
    pairs_from_truth(pool_without_frames, n_pairs=80).to_parquet(root / "preferences.parquet")
    encoder = EncoderConfig(kind="state", language=False, n_steps=8, embed_dim=16, hidden_dim=32)
    config = TrainConfig(encoder=encoder, epochs=20, ensemble_size=1, device="cpu")
    train_reward_model(root / "preferences.parquet", pool_without_frames, config,
                       out=root / "model")  # fmt: skip
    return root


def test_the_models_test_split_is_what_gets_evaluated(
    pool_without_frames: Pool, trained: Path, tmp_path: Path
) -> None:
    from robopref.reward import load_splits

    test = held_out_pairs(trained / "preferences.parquet", trained / "model", pool_without_frames)
    assert sorted(test["pair_id"]) == sorted(load_splits(trained / "model").test)
    report = run_validation(
        pool_without_frames.root, tmp_path / "v", model=trained / "model",
        preferences=trained / "preferences.parquet",
    )  # fmt: skip
    assert report.n_test_pairs == len(test)
    data = read_report(tmp_path / "v")
    assert data["ranking"]["overall"]["accuracy"] >= 0.7  # labels from the true quality
    assert data["distribution"]["correlations"]["quality_score"]["rho"] > 0.5


def test_a_split_pair_missing_from_the_preferences_is_an_input_error(
    pool_without_frames: Pool, trained: Path, tmp_path: Path
) -> None:
    prefs = pd.read_parquet(trained / "preferences.parquet")
    from robopref.reward import load_splits

    dropped = load_splits(trained / "model").test[0]
    prefs[prefs["pair_id"] != dropped].to_parquet(tmp_path / "fewer.parquet")
    with pytest.raises(InputError) as info:
        held_out_pairs(tmp_path / "fewer.parquet", trained / "model", pool_without_frames)
    assert info.value.field == "pair_id" and dropped in info.value.message


def test_pairs_without_a_model_need_explicit_test_pairs(
    pool_without_frames: Pool, trained: Path, tmp_path: Path
) -> None:
    manifest = pool_without_frames.manifest
    rewards = pd.DataFrame({"trajectory_id": manifest["trajectory_id"], "reward": 1.0})
    rewards.to_parquet(tmp_path / "r.parquet")
    with pytest.raises(InputError) as info:
        run_validation(pool_without_frames.root, tmp_path / "v", rewards=tmp_path / "r.parquet",
                       preferences=trained / "preferences.parquet")  # fmt: skip
    assert info.value.field == "test_pairs"

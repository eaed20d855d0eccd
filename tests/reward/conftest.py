"""Reward-model fixtures: tiny pools with known quality, their synthetic preferences, a model."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import torch

from robopref.pool import Pool
from robopref.reward import EncoderConfig, TrainConfig, TrainResult, train_reward_model
from robopref.testing import synthetic_preferences, tiny_pool, write_preferences

torch.set_num_threads(1)


def state_config(**overrides: object) -> TrainConfig:
    """A small, fast state-encoder config (single model, no language)."""
    encoder = EncoderConfig(kind="state", language=False, n_steps=16, hidden_dim=64, embed_dim=32)
    values: dict[str, object] = {
        "encoder": encoder,
        "epochs": 60,
        "patience": 15,
        "ensemble_size": 1,
        "device": "cpu",
    }
    values.update(overrides)
    return TrainConfig(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def state_pool(tmp_path_factory: pytest.TempPathFactory) -> Pool:
    """60 state-only synthetic reach trajectories, quality spread evenly over [0, 1]."""
    return tiny_pool(tmp_path_factory.mktemp("state") / "pool", n=60, frame_size=None, seed=0)


@pytest.fixture(scope="session")
def state_prefs(state_pool: Pool) -> pd.DataFrame:
    """400 pairs labelled by a B-Pref teacher that makes 10% mistakes."""
    return synthetic_preferences(state_pool, n_pairs=400, seed=0, epsilon=0.1)


@pytest.fixture(scope="session")
def state_prefs_file(state_prefs: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same preferences as a Parquet file."""
    return write_preferences(state_prefs, tmp_path_factory.mktemp("prefs") / "preferences.parquet")


@pytest.fixture(scope="session")
def trained(
    state_prefs_file: Path, state_pool: Pool, tmp_path_factory: pytest.TempPathFactory
) -> TrainResult:
    """A 2-member state ensemble trained on the file, saved to a checkpoint folder."""
    out = tmp_path_factory.mktemp("ckpt") / "model"
    config = state_config(ensemble_size=2, epochs=30)
    return train_reward_model(state_prefs_file, state_pool, config, out=out)

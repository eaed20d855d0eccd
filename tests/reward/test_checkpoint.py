import json
import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import robopref.reward
from robopref.errors import InputError
from robopref.pool import Pool
from robopref.reward import TrainResult, load_splits
from robopref.reward.data import file_sha256
from robopref.testing import synthetic_trajectory


def some(pool: Pool, n: int = 12) -> list:
    return [pool[t] for t in pool.manifest["trajectory_id"][:n]]


def test_load_gives_identical_scores(trained: TrainResult, state_pool: Pool) -> None:
    assert trained.checkpoint is not None
    loaded = robopref.reward.load(trained.checkpoint)
    trajectories = some(state_pool)
    assert np.array_equal(loaded.score(trajectories), trained.model.score(trajectories))
    assert loaded.score_members(trajectories).shape == (12, 2)


def test_checkpoint_records_config_data_split_seed_and_versions(
    trained: TrainResult, state_pool: Pool, state_prefs_file: Path
) -> None:
    assert trained.checkpoint is not None
    record = json.loads((trained.checkpoint / "config.json").read_text())
    assert record["schema_version"] == 1 and record["seed"] == 0
    assert record["data"]["preferences_sha256"] == file_sha256(state_prefs_file)
    assert record["data"]["manifest_sha256"] == file_sha256(state_pool.root / "manifest.parquet")
    assert record["train_config"]["encoder"]["kind"] == "state"
    assert {"python", "torch", "numpy", "robopref"} <= set(record["versions"])
    assert load_splits(trained.checkpoint) == trained.splits
    assert not list(trained.checkpoint.parent.glob(".*tmp"))  # nothing half-written left


def test_prefer_is_the_bradley_terry_probability(trained: TrainResult, state_pool: Pool) -> None:
    worst, best = (
        state_pool[state_pool.manifest["trajectory_id"][0]],
        state_pool[state_pool.manifest["trajectory_id"][59]],
    )
    p = trained.model.prefer(best, worst)
    r_best, r_worst = trained.model.score([best, worst])
    assert p == pytest.approx(1 / (1 + math.exp(-(r_best - r_worst))), rel=1e-6)
    assert p > 0.9 and trained.model.prefer(worst, best) == pytest.approx(1 - p, abs=1e-6)


def test_trajectories_of_any_length_are_scored(
    trained: TrainResult, rng: np.random.Generator
) -> None:
    lengths = [2, 7, 20, 333]
    trajectories = [
        synthetic_trajectory(f"len-{n}", quality=0.9, rng=rng, n_steps=n, frame_size=None)
        for n in lengths
    ]
    scores = trained.model.score(trajectories)
    assert scores.shape == (4,) and np.isfinite(scores).all()


@pytest.fixture
def copy(trained: TrainResult, tmp_path: Path) -> Path:
    assert trained.checkpoint is not None
    return Path(shutil.copytree(trained.checkpoint, tmp_path / "copy"))


def test_unknown_schema_version_is_an_input_error(copy: Path) -> None:
    config = json.loads((copy / "config.json").read_text())
    (copy / "config.json").write_text(json.dumps(config | {"schema_version": 99}))
    with pytest.raises(InputError) as caught:
        robopref.reward.load(copy)
    assert caught.value.field == "schema_version" and "config.json" in caught.value.path


@pytest.mark.parametrize(
    ("name", "damage"), [("model.safetensors", b"\x00" * 64), ("config.json", b"{not json")]
)
def test_corrupt_files_are_input_errors_naming_the_file(
    copy: Path, name: str, damage: bytes
) -> None:
    (copy / name).write_bytes(damage)
    with pytest.raises(InputError) as caught:
        robopref.reward.load(copy)
    assert name in caught.value.path


def test_truncated_weights_are_an_input_error(copy: Path) -> None:
    data = (copy / "model.safetensors").read_bytes()
    (copy / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"model\.safetensors"):
        robopref.reward.load(copy)


def test_a_folder_without_a_checkpoint_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"config\.json"):
        robopref.reward.load(tmp_path)


def test_saving_over_a_checkpoint_replaces_it(
    trained: TrainResult, copy: Path, state_pool: Pool
) -> None:
    robopref.reward.save_checkpoint(trained.model, copy)
    assert not (copy / "split.json").exists()  # the new folder replaced the old wholesale
    assert np.array_equal(
        robopref.reward.load(copy).score(some(state_pool, 3)),
        trained.model.score(some(state_pool, 3)),
    )


def test_all_tie_preferences_train_and_save_standard_json(
    state_prefs: pd.DataFrame, state_pool: Pool, tmp_path: Path
) -> None:
    from robopref.reward import train_reward_model

    from .conftest import state_config

    ties = state_prefs.assign(preference=0.5)
    result = train_reward_model(ties, state_pool, state_config(epochs=3), out=tmp_path / "m")
    assert math.isnan(result.metrics["test_accuracy"])  # no decisive pair to rank

    def reject(token: str) -> None:
        raise AssertionError(f"non-standard JSON constant {token}")

    record = json.loads((tmp_path / "m" / "config.json").read_text(), parse_constant=reject)
    assert record["metrics"]["test_accuracy"] is None
    assert robopref.reward.load(tmp_path / "m").n_members == 1

import json
import math
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

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


# --- loading is a validation layer: every field, truncations, tensors, no pickle -------------

MISSING = object()
ENCODER_FIELDS = ("kind", "temporal", "n_steps", "embed_dim", "hidden_dim", "image_size",
                  "camera", "resnet_weights", "time_feature", "motion_features", "with_state",
                  "language", "dropout")  # fmt: skip
CONFIG_FIELDS = (
    "schema_version", "format", "n_members", "tasks", "net", "net.encoder", "net.step_dim",
    "net.language_dim", "net.camera", *(f"net.encoder.{f}" for f in ENCODER_FIELDS), "data",
    "data.state_dim", "data.action_dim", "data.n_pairs", "metrics", "metrics.test_accuracy",
    "train_config", "train_config.loss.label_flip",
)  # fmt: skip
"""config.json fields the loader, the compatibility check and the model card read."""
STILL_VALID = {
    "net.camera": {"null", "str", "missing"},  # a state model reads no camera
    "net.encoder.camera": {"null", "str", "missing"},
    "net.encoder.resnet_weights": {"null", "str", "missing"},  # the weights carry them
    "net.encoder.motion_features": {"missing"},  # checkpoints from before the option
    "net.encoder.with_state": {"missing"},
    "net.language_dim": {"zero"},  # its value
    "net.encoder.dropout": {"zero"},
    "data.n_pairs": {"zero"},
    "metrics.test_accuracy": {"null", "zero", "negative", "huge"},
    "train_config.loss.label_flip": {"zero", "negative", "huge"},
}
"""(field → wrong_values labels) that are still valid values of the field, so load."""


def _get(config: dict, dotted: str) -> object:
    for key in dotted.split("."):
        config = config[key]
    return config


def _with(config: dict, dotted: str, value: object) -> dict:
    out = json.loads(json.dumps(config))
    *parents, last = dotted.split(".")
    target = out
    for key in parents:
        target = target[key]
    if value is MISSING:
        del target[last]
    else:
        target[last] = value
    return out


@pytest.mark.parametrize("field", CONFIG_FIELDS)
def test_every_config_field_of_the_wrong_type_or_value_names_itself(
    copy: Path, field: str, state_pool: Pool
) -> None:
    from tests.fuzz.harness import wrong_values

    config = json.loads((copy / "config.json").read_text())
    optional = field.startswith(("data", "metrics", "train_config"))
    values = [*wrong_values(_get(config, field)), *([] if optional else [("missing", MISSING)])]
    for label, value in values:
        (copy / "config.json").write_text(json.dumps(_with(config, field, value)))
        if label in STILL_VALID.get(field, ()):
            model = robopref.reward.load(copy)
            try:
                assert np.isfinite(model.score(some(state_pool, 2))).all(), (field, label)
            except InputError as exc:  # e.g. an older checkpoint's layout that the pool misfits
                assert exc.path == str(copy / "config.json"), f"{label}: {exc}"
            continue
        try:
            robopref.reward.load(copy)
        except InputError as exc:
            assert (exc.field, exc.path) == (field, str(copy / "config.json")), f"{label}: {exc}"
        else:
            pytest.fail(f"{field}={label}: loaded")


@pytest.mark.parametrize("name", ["config.json", "model.safetensors"])
def test_truncated_files_are_input_errors_naming_the_file(copy: Path, name: str) -> None:
    from tests.fuzz.harness import truncations

    data = (copy / name).read_bytes()
    for label, cut in truncations(data, count=6):
        (copy / name).write_bytes(cut)
        with pytest.raises(InputError) as caught:
            robopref.reward.load(copy)
        assert caught.value.path == str(copy / name), (label, str(caught.value))


def _rewrite_weights(copy: Path, change: Callable[[dict[str, torch.Tensor]], object]) -> None:
    from safetensors.torch import load_file, save_file

    tensors = load_file(str(copy / "model.safetensors"))
    change(tensors)
    save_file(tensors, str(copy / "model.safetensors"))


@pytest.mark.parametrize(
    ("label", "change", "field", "text"),
    [
        ("shape", lambda t: t.update({"members.0.head.3.weight": torch.zeros(1, 3)}),
         "members.0.head.3.weight", "expected float [1, 64]"),
        ("dtype", lambda t: t.update({"members.1.step_std": torch.ones(21, dtype=torch.int64)}),
         "members.1.step_std", "I64"),
        ("missing", lambda t: t.pop("members.1.head.0.bias"), "members.1.head.0.bias", "missing"),
        ("extra", lambda t: t.update({"members.2.head.0.bias": torch.zeros(3)}),
         "members.2.head.0.bias", "not a parameter"),
        ("nan", lambda t: t["members.0.head.0.weight"].view(-1).__setitem__(0, math.nan),
         "members.0.head.0.weight", "NaN"),
        ("tasks", lambda t: t.update({"task_embeddings": torch.zeros(2, 384)}),
         "task_embeddings", "for 0 tasks"),
    ],
)  # fmt: skip
def test_tensors_that_do_not_fit_the_recorded_network_are_named(
    copy: Path, label: str, change: Callable[[dict[str, torch.Tensor]], object], field: str,
    text: str,
) -> None:  # fmt: skip
    _rewrite_weights(copy, change)
    with pytest.raises(InputError) as caught:
        robopref.reward.load(copy)
    assert caught.value.field == field and text in caught.value.message, str(caught.value)
    assert caught.value.path == str(copy / "model.safetensors")


def test_a_config_claiming_a_huge_network_is_refused_without_building_it(copy: Path) -> None:
    config = json.loads((copy / "config.json").read_text())
    config["net"]["encoder"]["hidden_dim"] = 4096
    config["n_members"] = 64
    (copy / "config.json").write_text(json.dumps(config))
    with pytest.raises(InputError) as caught:  # 64 × 4096² floats would be 4 GiB
        robopref.reward.load(copy)
    assert caught.value.path.endswith("model.safetensors")
    assert caught.value.field.startswith("members."), str(caught.value)


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda p: p.write_text("a file"), "model"),
        (lambda p: (p.mkdir(), (p / "config.json").write_text('{"model_type": "bert"}')), "format"),
        (lambda p: (p.mkdir(), (p / "model.safetensors").write_bytes(b"")), "config.json"),
    ],
)
def test_what_is_not_a_checkpoint_is_refused(tmp_path: Path, make: Callable, field: str) -> None:
    make(tmp_path / "m")
    with pytest.raises(InputError) as caught:
        robopref.reward.load(tmp_path / "m")
    assert caught.value.field == field


class _Plant:
    """Unpickling this would create the file `path`."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple:
        return (open, (str(self.path), "w"))


@pytest.mark.parametrize("name", ["config.json", "model.safetensors"])
def test_pickles_are_never_unpickled(copy: Path, tmp_path: Path, name: str) -> None:
    import pickle

    planted = tmp_path / "unpickled"
    (copy / name).write_bytes(pickle.dumps(_Plant(planted)))
    with pytest.raises(InputError, match=name.replace(".", r"\.")):
        robopref.reward.load(copy)
    torch.save({"x": _Plant(planted)}, copy / name)  # a torch checkpoint is a pickle too
    with pytest.raises(InputError):
        robopref.reward.load(copy)
    assert not planted.exists()


@pytest.mark.parametrize(
    ("split", "field"),
    [
        ([], "split.json"),
        ({"kind": "pair", "seed": 0, "train": 5, "val": [], "test": []}, "train"),
        ({"kind": "pair", "seed": "x", "train": [], "val": [], "test": []}, "seed"),
        ({"kind": "pair", "seed": 0, "train": [], "val": [1], "test": []}, "val"),
        ({"kind": "folds", "seed": 0, "train": [], "val": [], "test": []}, "kind"),
    ],
)
def test_a_malformed_split_names_its_field(copy: Path, split: object, field: str) -> None:
    (copy / "split.json").write_text(json.dumps(split))
    with pytest.raises(InputError) as caught:
        load_splits(copy)
    assert caught.value.field == field

"""A model and a pool that do not match: one InputError naming the model file and the field."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

import robopref.reward
from robopref.errors import InputError
from robopref.pool import Pool
from robopref.pool.pool import append_to_pool
from robopref.reward import EncoderConfig, RewardModel, compat, save_checkpoint, score_pool
from robopref.reward.compat import input_dims, step_width
from robopref.reward.ensemble import EnsembleNet
from robopref.reward.language import EMBED_DIM
from robopref.reward.model import build_net, spec_for
from robopref.testing import tiny_pool
from robopref.validate import validate

TASKS = ("reach the red target", "reach the blue target")


def memory_model(pool: Pool, **encoder: object) -> RewardModel:
    """An untrained one-member model that fits `pool` (its widths recorded as training does)."""
    enc = EncoderConfig(n_steps=4, embed_dim=8, hidden_dim=8, image_size=16, **encoder)  # type: ignore[arg-type]
    first = pool[str(pool.manifest["trajectory_id"].iloc[0])]
    dims = input_dims(first)
    spec = spec_for(
        enc,
        step_dim=step_width(enc, dims["state_dim"], dims["action_dim"]),
        language_dim=EMBED_DIM if enc.language else 0,
        camera=pool.primary_camera,
    )
    rng = np.random.default_rng(0)
    tasks = sorted(set(pool.manifest["task"])) if enc.language else []
    vectors = {t: v / np.linalg.norm(v) for t in tasks for v in [rng.normal(size=EMBED_DIM)]}
    return RewardModel(
        net=EnsembleNet([build_net(spec, seed=0)]),
        spec=spec,
        task_embeddings=vectors,
        record={"data": dims},
    )


def changed_pool(pool: Pool, out: Path, **arrays: object) -> Pool:
    """A copy of `pool` (same ids) whose trajectories have `state`/`action` made wider."""
    trajectories = []
    for traj in pool:
        change = {k: np.concatenate([getattr(traj, k)] * int(n), axis=1)  # type: ignore[call-overload]
                  for k, n in arrays.items()}  # fmt: skip
        trajectories.append(dataclasses.replace(traj, frames={}, **change))
    return append_to_pool(out, trajectories)


@pytest.fixture(scope="module")
def pools(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Pool]:
    root = tmp_path_factory.mktemp("match")
    base = tiny_pool(root / "base", n=3, frame_size=None, tasks=TASKS)
    return {
        "base": base,
        "wide_state": changed_pool(base, root / "wide_state", state=2),
        "wide_action": changed_pool(base, root / "wide_action", action=3),
        "frames": tiny_pool(root / "frames", n=2, frame_size=16),
    }


@pytest.fixture(scope="module")
def checkpoint(pools: dict[str, Pool], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ckpt") / "model"
    return save_checkpoint(memory_model(pools["base"], language=False), out)


@pytest.mark.parametrize(
    ("pool_name", "field", "text"),
    [
        ("wide_state", "data.state_dim", "model expects 4 state columns, pool trajectory"),
        ("wide_action", "data.action_dim", "model expects 4 action columns, pool trajectory"),
    ],
)
def test_a_pool_of_other_widths_is_refused_naming_the_models_config(
    checkpoint: Path, pools: dict[str, Pool], pool_name: str, field: str, text: str
) -> None:
    model = robopref.reward.load(checkpoint)
    with pytest.raises(InputError) as caught:
        model.check_pool(pools[pool_name])
    assert caught.value.path == str(checkpoint / "config.json")
    assert caught.value.field == field and text in caught.value.message
    assert "has 8" in caught.value.message or "has 12" in caught.value.message


def test_every_scoring_entry_refuses_the_mismatch_before_scoring(
    checkpoint: Path, pools: dict[str, Pool], tmp_path: Path
) -> None:
    model = robopref.reward.load(checkpoint)
    wide = pools["wide_state"]
    trajectories = [wide[t] for t in wide.manifest["trajectory_id"][:2]]
    for call in (
        lambda: model.score(trajectories),
        lambda: score_pool(model, wide),
        lambda: validate(wide, tmp_path / "validation", scorer=model),
    ):
        with pytest.raises(InputError, match=r"data\.state_dim"):
            call()
    assert not (tmp_path / "validation").exists()  # refused before anything was written


def test_a_checkpoint_without_recorded_widths_is_checked_by_its_step_width(
    checkpoint: Path, pools: dict[str, Pool], tmp_path: Path
) -> None:
    old = tmp_path / "old"
    old.mkdir()
    (old / "model.safetensors").write_bytes((checkpoint / "model.safetensors").read_bytes())
    config = json.loads((checkpoint / "config.json").read_text())
    del config["data"]
    (old / "config.json").write_text(json.dumps(config))
    model = robopref.reward.load(old)
    model.check_pool(pools["base"])  # fits
    with pytest.raises(InputError) as caught:
        model.check_pool(pools["wide_state"])
    assert caught.value.field == "net.step_dim"
    assert "reads 21 values per step" in caught.value.message
    assert "gives 33 (state 8, action 4)" in caught.value.message


def test_an_image_model_refuses_a_pool_without_its_camera(pools: dict[str, Pool]) -> None:
    model = memory_model(pools["frames"], kind="conv", language=False)
    model.check_pool(pools["frames"])
    with pytest.raises(InputError) as caught:
        model.check_pool(pools["base"])
    assert caught.value.field == "net.camera" and "'front'" in caught.value.message
    assert caught.value.path == "reward model"  # a model made in memory has no file
    traj = pools["base"][str(pools["base"].manifest["trajectory_id"].iloc[0])]
    with pytest.raises(InputError, match=r"net\.camera"):
        model.score([traj])


def test_unseen_instructions_without_an_embedder_are_refused_up_front(
    pools: dict[str, Pool], monkeypatch: pytest.MonkeyPatch
) -> None:
    model = memory_model(pools["base"], language=True)
    model.check_pool(pools["base"])  # every task was seen in training
    model.task_embeddings.pop(TASKS[1])
    model.check_pool(pools["base"])  # unseen, but the MiniLM packages are installed
    monkeypatch.setattr(compat, "EMBEDDER_PACKAGES", ("robopref_no_such_package",))
    with pytest.raises(InputError) as caught:
        model.check_pool(pools["base"])
    assert caught.value.field == "tasks" and TASKS[1] in caught.value.message


def test_prepared_inputs_of_the_wrong_shape_are_refused(pools: dict[str, Pool]) -> None:
    model = memory_model(pools["base"], language=False)
    traj = pools["base"][str(pools["base"].manifest["trajectory_id"].iloc[0])]
    inputs = model.inputs([traj])
    assert model.score_inputs(inputs).shape == (1, 1)
    with pytest.raises(InputError) as caught:
        model.score_inputs(inputs._replace(x=inputs.x[:, :, :5]))
    assert caught.value.field == "x" and "(N, 4, 21)" in caught.value.message


def test_training_records_the_widths_the_model_reads(tmp_path: Path) -> None:
    from robopref.reward import TrainConfig, train_reward_model
    from robopref.testing import synthetic_preferences

    pool = tiny_pool(tmp_path / "pool", n=8, frame_size=None)
    prefs = synthetic_preferences(pool, n_pairs=28, seed=0)
    enc = EncoderConfig(language=False, n_steps=4, embed_dim=8, hidden_dim=8)
    config = TrainConfig(encoder=enc, epochs=1, ensemble_size=1, device="cpu")
    train_reward_model(prefs, pool, config, out=tmp_path / "model")
    data = json.loads((tmp_path / "model" / "config.json").read_text())["data"]
    assert (data["state_dim"], data["action_dim"]) == (4, 4)

"""Frames-only reward models on a frozen pretrained backbone: cache, checkpoint, scoring, ONNX."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

import robopref.pool
from robopref.cli import app
from robopref.pool import Pool
from robopref.pool.pool import append_to_pool
from robopref.reward import (
    EncoderConfig,
    TrainConfig,
    TrainResult,
    load_checkpoint,
    score_pool,
    train_reward_model,
)
from robopref.reward.onnx import export_onnx
from robopref.testing import synthetic_preferences, synthetic_trajectory, write_preferences

from .test_train import pool_scores, true_accuracy, truth_of

torch.set_num_threads(1)


def pretrained_config(**encoder: object) -> TrainConfig:
    """EfficientNet-Lite0 (bundled weights) at 32 px, 2 views, a small head, 2 members."""
    fields: dict[str, object] = {
        "kind": "pretrained",
        "backbone": "efficientnet_lite0",
        "input_size": 32,
        "views": 2,
        "view_shift": 2,
        "language": False,
        "n_steps": 6,
        "embed_dim": 32,
        "hidden_dim": 32,
    }
    fields.update(encoder)
    return TrainConfig(
        encoder=EncoderConfig(**fields),  # type: ignore[arg-type]
        epochs=40,
        patience=12,
        ensemble_size=2,
        device="cpu",
    )


def two_camera_pool(path: Path, *, n: int = 30, seed: int = 1) -> Pool:
    """Synthetic reaches with a `front` camera and a mirrored `side` camera."""
    rng = np.random.default_rng(seed)
    trajectories = []
    for i, q in enumerate(np.linspace(0.0, 1.0, n)):
        traj = synthetic_trajectory(f"syn-{i:03d}", quality=float(q), rng=rng, frame_size=32)
        front = traj.frames["front"]
        traj = replace(
            traj, frames={"front": front, "side": np.ascontiguousarray(front[:, :, ::-1])}
        )
        trajectories.append(traj)
    return append_to_pool(path, trajectories)


@pytest.fixture(scope="module")
def camera_pool(tmp_path_factory: pytest.TempPathFactory) -> Pool:
    return two_camera_pool(tmp_path_factory.mktemp("pretrained") / "pool")


@pytest.fixture(scope="module")
def prefs(camera_pool: Pool) -> pd.DataFrame:
    return synthetic_preferences(camera_pool, n_pairs=300, seed=0)


@pytest.fixture(scope="module")
def trained(
    camera_pool: Pool, prefs: pd.DataFrame, tmp_path_factory: pytest.TempPathFactory
) -> TrainResult:
    out = tmp_path_factory.mktemp("ckpt") / "model"
    return train_reward_model(prefs, camera_pool, pretrained_config(), out=out)


def test_frames_only_model_on_frozen_features_learns_the_true_order(
    trained: TrainResult, camera_pool: Pool
) -> None:
    scores = pool_scores(trained.model, camera_pool)
    accuracy = true_accuracy(scores, trained.pairs("test"), truth_of(camera_pool))
    assert accuracy >= 0.8
    record = json.loads((trained.checkpoint / "config.json").read_text())  # type: ignore[operator]
    assert record["backbone"]["name"] == "efficientnet_lite0"
    assert record["backbone"]["weights_digest"].startswith("sha256:")
    assert record["net"]["cameras"] == ["front"] and record["net"]["feature_dim"] == 1280


def test_every_frame_is_embedded_once_into_the_pools_cache(
    trained: TrainResult, camera_pool: Pool, prefs: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> None:
    entries = list((camera_pool.root / ".cache" / "embeddings").rglob("*.npz"))
    assert len(entries) == 30  # one per trajectory of the camera the model reads
    features = np.load(entries[0])["features"]
    assert features.shape == (20, 2, 1280) and features.dtype == np.float16  # T, views, F

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the backbone ran although every frame is cached")

    from robopref.vision import Backbone

    monkeypatch.setattr(Backbone, "forward", refuse)
    again = train_reward_model(prefs, camera_pool, pretrained_config())
    assert again.metrics["n_train"] == trained.metrics["n_train"]


def test_cached_features_and_raw_frames_score_alike_and_survive_the_checkpoint(
    trained: TrainResult, camera_pool: Pool
) -> None:
    loaded = load_checkpoint(trained.checkpoint)  # type: ignore[arg-type]
    table = score_pool(loaded, camera_pool)  # features from the embedding cache
    direct = loaded.score(camera_pool[t] for t in table["trajectory_id"])  # frames → frontend
    assert np.allclose(table["reward"], direct, atol=1e-3)
    before = trained.model.score(camera_pool[t] for t in table["trajectory_id"])
    assert np.allclose(before, direct, atol=1e-5)


def test_onnx_graph_takes_raw_frames_of_any_size(
    trained: TrainResult, camera_pool: Pool, tmp_path: Path
) -> None:
    import onnxruntime as ort

    trajectories = [camera_pool[t] for t in list(camera_pool.manifest["trajectory_id"])[:4]]
    inputs = trained.model.inputs(trajectories)
    assert inputs.x.shape == (4, 6, 1, 32, 32, 3) and inputs.x.dtype == np.uint8
    info = export_onnx(trained.model, tmp_path / "model.onnx", check=inputs)
    assert info["parity_max_abs_diff"] <= 1e-4
    assert info["inputs"]["x"]["shape"][2:5] == [1, "height", "width"]
    session = ort.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    bigger = np.repeat(np.repeat(inputs.x, 2, axis=3), 2, axis=4)  # 64 × 64 frames
    feeds = {"x": bigger, "steps": inputs.steps}
    got = session.run(["member_rewards"], feeds)[0]
    want = trained.model.score_inputs(inputs._replace(x=bigger))
    assert np.allclose(got, want, atol=1e-4)


def test_two_cameras_are_read_in_order(camera_pool: Pool, prefs: pd.DataFrame) -> None:
    config = pretrained_config(cameras=("front", "side"), views=1)
    config = replace(config, epochs=3, ensemble_size=1)
    result = train_reward_model(prefs, camera_pool, config)
    assert result.model.spec.cameras == ("front", "side")
    inputs = result.model.inputs([camera_pool["syn-000"]])
    assert inputs.x.shape == (1, 6, 2, 32, 32, 3)
    mirrored = inputs.x[0, :, 0, :, ::-1].astype(int)
    assert np.abs(inputs.x[0, :, 1] - mirrored).mean() < 2  # the side camera (H.264 noise)
    assert np.abs(inputs.x[0, :, 0] - mirrored).mean() > 2


def test_images_only_without_an_encoder_takes_the_recommended_backbone(
    camera_pool: Pool, prefs: pd.DataFrame, tmp_path: Path
) -> None:
    shutil.copytree(camera_pool.root, tmp_path / "pool")  # its own cache
    prefs_file = write_preferences(prefs, tmp_path / "prefs.parquet")
    args = ["train", str(prefs_file), str(tmp_path / "pool"), "--out", str(tmp_path / "model"),
            "--images-only", "--input-size", "32", "--views", "1", "--n-steps", "4",
            "--epochs", "2", "--ensemble", "1", "--no-language", "--device", "cpu"]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    config = json.loads((tmp_path / "model" / "config.json").read_text())
    assert config["net"]["encoder"]["kind"] == "pretrained"
    assert config["net"]["encoder"]["backbone"] == "efficientnet_lite0"
    assert "efficientnet_lite0" in result.output
    loaded = load_checkpoint(tmp_path / "model")
    assert len(score_pool(loaded, robopref.pool.open(tmp_path / "pool"))) == 30


@pytest.mark.parametrize(
    ("args", "field"),
    [(["--encoder", "resnet1000"], "kind"), (["--encoder", "resnet18"], "--weights")],
)
def test_an_unknown_or_unweighted_backbone_is_refused_before_any_work(
    camera_pool: Pool, prefs: pd.DataFrame, tmp_path: Path, args: list[str], field: str
) -> None:
    prefs_file = write_preferences(prefs, tmp_path / "prefs.parquet")
    out = tmp_path / "model"
    cmd = ["train", str(prefs_file), str(camera_pool.root), "--out", str(out), *args]
    result = CliRunner().invoke(app, cmd)
    assert result.exit_code == 2, result.output
    assert field in result.output
    assert not out.exists()

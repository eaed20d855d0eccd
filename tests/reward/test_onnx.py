from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from robopref.pool import Pool
from robopref.reward import EncoderConfig, Temporal, TrainConfig, TrainResult, train_reward_model
from robopref.reward.onnx import export_onnx, input_format
from robopref.testing import synthetic_preferences, tiny_pool


def run_onnx(path: Path, feeds: dict[str, np.ndarray]) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(["reward"], feeds)[0]


def test_state_model_onnx_matches_pytorch(
    trained: TrainResult, state_pool: Pool, tmp_path: Path
) -> None:
    trajectories = [state_pool[t] for t in state_pool.manifest["trajectory_id"]]
    inputs = trained.model.inputs(trajectories)
    info = export_onnx(trained.model, tmp_path / "model.onnx", check=inputs)
    assert info["parity_max_abs_diff"] <= 1e-4
    onnx.checker.check_model(str(tmp_path / "model.onnx"))
    scores = run_onnx(tmp_path / "model.onnx", {"x": inputs.x})  # 60 at once: the batch is dynamic
    assert np.max(np.abs(scores - trained.model.score(trajectories))) <= 1e-4
    assert info["inputs"] == input_format(trained.model)["inputs"]
    assert (
        info["inputs"]["x"]["shape"]
        == ["batch", 16, 8 + 1 + 12]  # S=4, A=4, seconds, 2S + A motion
        and info["inputs"]["x"]["dtype"] == "float32"
    )
    assert info["fixed_length"] is True and "task_embedding" not in info["inputs"]


def test_image_model_with_language_onnx_matches_pytorch(tmp_path: Path) -> None:
    pool = tiny_pool(tmp_path / "pool", n=10, frame_size=32, seed=3)
    prefs = synthetic_preferences(pool, n_pairs=30, seed=0)
    encoder = EncoderConfig(
        kind="conv",
        temporal=Temporal.CONV,
        language=True,
        n_steps=4,
        image_size=24,
        embed_dim=16,
        hidden_dim=16,
    )
    config = TrainConfig(encoder=encoder, epochs=2, ensemble_size=2, device="cpu")
    model = train_reward_model(prefs, pool, config).model
    trajectories = [pool[t] for t in pool.manifest["trajectory_id"]]
    inputs = model.inputs(trajectories)
    info = export_onnx(model, tmp_path / "image.onnx", check=inputs)
    x = info["inputs"]["x"]
    assert (
        x["shape"] == ["batch", 4, 24, 24, 3] and x["dtype"] == "uint8" and x["range"] == [0, 255]
    )
    assert info["inputs"]["task_embedding"]["shape"] == ["batch", 384]
    assert inputs.task_embedding is not None
    scores = run_onnx(
        tmp_path / "image.onnx", {"x": inputs.x, "task_embedding": inputs.task_embedding}
    )
    assert np.max(np.abs(scores - model.score(trajectories))) <= 1e-4


def test_image_and_state_model_onnx_takes_steps_beside_frames(tmp_path: Path) -> None:
    pool = tiny_pool(tmp_path / "pool", n=10, frame_size=32, seed=3)
    prefs = synthetic_preferences(pool, n_pairs=30, seed=0)
    encoder = EncoderConfig(
        kind="conv", with_state=True, language=False, n_steps=4, image_size=16, embed_dim=8
    )
    config = TrainConfig(encoder=encoder, epochs=2, ensemble_size=2, device="cpu")
    model = train_reward_model(prefs, pool, config).model
    trajectories = [pool[t] for t in pool.manifest["trajectory_id"]]
    inputs = model.inputs(trajectories)
    assert inputs.steps is not None and inputs.steps.shape == (10, 4, model.spec.step_dim)
    info = export_onnx(model, tmp_path / "fused.onnx", check=inputs)
    assert list(info["inputs"]) == ["x", "steps"]
    assert info["inputs"]["steps"]["shape"] == ["batch", 4, model.spec.step_dim]
    scores = run_onnx(tmp_path / "fused.onnx", {"x": inputs.x, "steps": inputs.steps})
    assert np.max(np.abs(scores - model.score(trajectories))) <= 1e-4
    # The state branch matters: other steps, same frames → other rewards.
    moved = run_onnx(tmp_path / "fused.onnx", {"x": inputs.x, "steps": inputs.steps + 1.0})
    assert np.max(np.abs(moved - scores)) > 1e-4
    assert export_onnx(model, tmp_path / "random.onnx")["parity_max_abs_diff"] <= 1e-4


def test_export_refuses_a_graph_that_disagrees(trained: TrainResult, tmp_path: Path) -> None:
    from robopref.errors import InputError

    with pytest.raises(InputError, match="parity"):
        export_onnx(trained.model, tmp_path / "strict.onnx", atol=-1.0)
    assert not list(tmp_path.iterdir())  # nothing half-written

"""ONNX export of a reward model, checked against PyTorch under ONNX Runtime at export time."""

from __future__ import annotations

import logging
import os
import uuid
import warnings
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from torch import nn

from robopref.errors import InputError
from robopref.reward.features import MOTION_TEXT
from robopref.reward.language import EMBED_DIM, MODEL_NAME
from robopref.reward.model import RewardNet
from robopref.reward.score import ModelInputs, RewardModel

logger = logging.getLogger(__name__)

OPSET = 18
PARITY_ATOL = 1e-4
"""Largest |ONNX − PyTorch| reward difference accepted at export."""


class _Graph(nn.Module):
    """The exported function: inputs → (reward (B,), member_rewards (B, M)).

    Its inputs are x, then task_embedding (language models), then steps (image + state
    models), positionally: an ONNX graph has no optional inputs.
    """

    def __init__(self, model: RewardModel) -> None:
        super().__init__()
        self.net = model.net
        self.language = bool(model.spec.language_dim)

    def forward(
        self, x: torch.Tensor, second: torch.Tensor | None = None, third: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Score a batch."""
        emb, steps = (second, third) if self.language else (None, second)
        mean, members = self.net(x, emb, steps)
        return mean.float(), members.float()


def input_names(model: RewardModel) -> list[str]:
    """The graph's input names in order: x [, task_embedding] [, steps]."""
    names = ["x"]
    if model.spec.language_dim:
        names.append("task_embedding")
    if model.spec.encoder.fuses_state or model.spec.encoder.times_frames:
        names.append("steps")
    return names


def feeds(inputs: ModelInputs) -> dict[str, np.ndarray]:
    """ONNX Runtime feeds of prepared inputs (the names of `input_names`)."""
    out = {"x": inputs.x}
    if inputs.task_embedding is not None:
        out["task_embedding"] = inputs.task_embedding
    if inputs.steps is not None:
        out["steps"] = inputs.steps
    return out


def input_format(model: RewardModel) -> dict[str, Any]:
    """The ONNX (and `ModelInputs`) input format, for the model card.

    Returns:
        `inputs` (name → shape, dtype, value range, meaning), `outputs`, `n_steps`,
        `fixed_length`, how trajectories are subsampled, and the language model.
    """
    enc = model.spec.encoder
    n = enc.n_steps
    x: dict[str, Any] = {}
    if enc.uses_frames:
        x = {
            "shape": ["batch", n, enc.image_size, enc.image_size, 3],
            "dtype": "uint8",
            "range": [0, 255],
            "meaning": f"RGB frames of camera {model.spec.camera!r}, antialiased bilinear resize",
        }
    if enc.pretrained:
        x = _pretrained_x_format(model)
    steps = {
        "shape": ["batch", n, model.spec.step_dim],
        "dtype": "float32",
        "range": "raw units (normalised inside the graph)",
        "meaning": "state (S columns), then action (A columns)"
        + (", then elapsed seconds since the first step" if enc.time_feature else "")
        + (MOTION_TEXT if enc.motion_features else "")
        + " per step, from arrays.npz",
    }
    if enc.times_frames:
        steps = {
            "shape": ["batch", n, 1],
            "dtype": "float32",
            "range": "seconds (normalised inside the graph)",
            "meaning": "elapsed seconds since the first frame, at each sampled frame",
        }
    inputs: dict[str, Any] = {"x": x if enc.uses_frames else steps}
    if model.spec.language_dim:
        inputs["task_embedding"] = {
            "shape": ["batch", EMBED_DIM],
            "dtype": "float32",
            "range": [-1.0, 1.0],
            "meaning": f"L2-normalised {MODEL_NAME} embedding of the instruction",
            "training_tasks": "embeddings in model.safetensors `task_embeddings`, rows = tasks",
        }
    if enc.fuses_state or enc.times_frames:
        inputs["steps"] = steps
    return {
        "inputs": inputs,
        "outputs": {
            "reward": {"shape": ["batch"], "dtype": "float32", "meaning": "ensemble-mean reward"},
            "member_rewards": {
                "shape": ["batch", model.n_members],
                "dtype": "float32",
                "meaning": "reward of each ensemble member",
            },
        },
        "n_steps": n,
        "fixed_length": True,
        "subsampling": f"trajectories of any length T ≥ 2 use steps round(linspace(0, T − 1, {n}))",
        "opset": OPSET,
    }


def _pretrained_x_format(model: RewardModel) -> dict[str, Any]:
    """The `x` input of a pretrained-backbone model: raw frames of its cameras, any size."""
    cameras = list(model.spec.cameras)
    frontend = model.net.frontend
    if frontend is None:  # fine-tuned: each member embeds with its own backbone
        frontend = getattr(model.net.members[0], "frontend", None)
    size = None if frontend is None else frontend.backbone.input_size
    return {
        "shape": ["batch", model.spec.encoder.n_steps, len(cameras), "height", "width", 3],
        "dtype": "uint8",
        "range": [0, 255],
        "meaning": f"RGB frames of cameras {cameras} (in this order) at their stored size; "
        f"the graph resizes them to {size}×{size} (antialiased bilinear) and normalises them "
        f"for the {model.spec.encoder.backbone} backbone",
    }


def export_onnx(
    model: RewardModel, path: Path, *, check: ModelInputs | None = None, atol: float = PARITY_ATOL
) -> dict[str, Any]:
    """Export `model` to `path` and check ONNX Runtime against PyTorch.

    Args:
        model: The model to export.
        path: The .onnx file to write (replaced atomically).
        check: Inputs for the parity check; None uses 8 random inputs of the input format.
        atol: Largest accepted |ONNX − PyTorch| reward difference.

    Returns:
        `input_format(model)` plus `parity_max_abs_diff`.

    Raises:
        InputError: The exported graph disagrees with PyTorch by more than `atol`.
    """
    inputs = check if check is not None else random_inputs(model, n=8, seed=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        _export(model, inputs, tmp)
        diff = parity(model, tmp, inputs)
        if not diff <= atol:
            raise InputError(
                path, "parity", f"ONNX Runtime differs from PyTorch by {diff:.3g} > {atol}"
            )
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
        tmp.with_name(tmp.name + ".data").unlink(missing_ok=True)
    return input_format(model) | {"parity_max_abs_diff": diff}


def _export(model: RewardModel, inputs: ModelInputs, path: Path) -> None:
    given = feeds(inputs)
    names = input_names(model)
    args = tuple(torch.from_numpy(np.ascontiguousarray(given[name][:2])) for name in names)
    dims: list[dict[int, Any]] = [{0: torch.export.Dim("batch")} for _ in names]
    if model.spec.encoder.pretrained:  # frames of any size: the graph resizes them
        dims[0] |= {3: torch.export.Dim("height", min=2), 4: torch.export.Dim("width", min=2)}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _Graph(model).eval(),
            args,
            str(path),
            input_names=names,
            output_names=["reward", "member_rewards"],
            dynamic_shapes=tuple(dims),
            opset_version=OPSET,
            dynamo=True,
            external_data=False,
            verbose=False,
        )


def parity(model: RewardModel, path: Path, inputs: ModelInputs) -> float:
    """Largest |ONNX Runtime − PyTorch| member reward on `inputs`."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    onnx_members = session.run(["member_rewards"], feeds(inputs))[0]
    torch_members = model.score_inputs(inputs)
    return float(np.max(np.abs(onnx_members - torch_members)))


def random_inputs(model: RewardModel, *, n: int, seed: int) -> ModelInputs:
    """`n` random inputs of the model's input format (for parity checks and benchmarks)."""
    rng = np.random.default_rng(seed)
    enc = model.spec.encoder
    steps = None
    if enc.reads_steps:
        first = cast(RewardNet, model.net.members[0])
        mean, std = first.step_mean.numpy(), first.step_std.numpy()
        steps = (mean + std * rng.standard_normal((n, enc.n_steps, model.spec.step_dim))).astype(
            np.float32
        )
    if enc.pretrained:
        side = enc.image_size
        x = rng.integers(
            0, 256, (n, enc.n_steps, len(model.spec.cameras), side, side, 3), dtype=np.uint8
        )
        if enc.times_frames and steps is not None:
            steps = np.sort(np.abs(steps), axis=1)  # elapsed time grows
    elif enc.uses_frames:
        x = rng.integers(
            0, 256, (n, enc.n_steps, enc.image_size, enc.image_size, 3), dtype=np.uint8
        )
    else:
        x, steps = cast(np.ndarray, steps), None
    emb = None
    if model.spec.language_dim:
        emb = rng.standard_normal((n, model.spec.language_dim)).astype(np.float32)
        emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    return ModelInputs(x, emb, steps)

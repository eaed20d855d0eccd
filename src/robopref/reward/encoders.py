"""Encoder families (per-step embeddings) and temporal aggregations, in registries.

An encoder maps its input to per-step embeddings (B, T, E):

- `state`: (B, T, D) float32 normalised state + action → per-step MLP;
- `conv`: (B, T, H, W, 3) uint8 frames → small CNN per frame (the CPU default for images);
- `resnet18`: (B, T, H, W, 3) uint8 frames → torchvision ResNet-18 (imported lazily; weights
  from a local file when given, from scratch otherwise).

A temporal aggregation maps (B, T, E) → (B, E).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from robopref.errors import InputError
from robopref.reward.config import EncoderConfig, Temporal

logger = logging.getLogger(__name__)


class StateEncoder(nn.Module):
    """Per-step MLP on state + action: (B, T, D) → (B, T, E)."""

    def __init__(self, config: EncoderConfig, step_dim: int) -> None:
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Linear(step_dim, config.hidden_dim),
            nn.ReLU(),
            nn.Linear(config.hidden_dim, config.embed_dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Embed each step."""
        out: torch.Tensor = self.mlp(x)
        return out


def _frames_to_images(x: torch.Tensor) -> torch.Tensor:
    """(B, T, H, W, 3) uint8 → (B·T, 3, H, W) float in [0, 1]."""
    b, t, h, w, c = x.shape
    return x.reshape(b * t, h, w, c).permute(0, 3, 1, 2).float() / 255.0


class ConvEncoder(nn.Module):
    """Small CNN per frame: (B, T, H, W, 3) uint8 → (B, T, E).

    Three stride-2 convolutions, then a 4×4 average grid that is flattened (not a global
    average), so where things are in the image survives into the embedding.
    """

    def __init__(self, config: EncoderConfig, step_dim: int) -> None:
        super().__init__()
        del step_dim
        self.cnn = nn.Sequential(
            nn.Conv2d(3, 16, 5, stride=2, padding=2),
            nn.ReLU(),
            nn.Conv2d(16, 32, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.Conv2d(32, 32, 3, stride=2, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(4),
            nn.Flatten(),
            nn.Linear(32 * 16, config.embed_dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Embed each frame."""
        b, t = x.shape[:2]
        out: torch.Tensor = self.cnn(_frames_to_images(x))
        return out.reshape(b, t, -1)


IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class ResNet18Encoder(nn.Module):
    """torchvision ResNet-18 per frame, fc replaced by a linear map: (B, T, H, W, 3) → (B, T, E)."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, config: EncoderConfig, step_dim: int) -> None:
        super().__init__()
        del step_dim
        import torchvision

        backbone = torchvision.models.resnet18(weights=None)
        if config.resnet_weights is not None:
            path = config.resnet_weights
            result = backbone.load_state_dict(_read_state_dict(path), strict=False)
            missing = [k for k in result.missing_keys if not k.startswith("fc.")]
            if missing or result.unexpected_keys:
                bad = (missing or result.unexpected_keys)[:3]
                raise InputError(path, "resnet_weights", f"not a ResNet-18 state_dict: {bad}")
        backbone.fc = nn.Identity()
        self.backbone = backbone
        self.proj = nn.Linear(512, config.embed_dim)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Embed each frame."""
        b, t = x.shape[:2]
        images = (_frames_to_images(x) - self.mean) / self.std
        out: torch.Tensor = self.proj(self.backbone(images))
        return out.reshape(b, t, -1)


def _read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """A ResNet-18 state_dict from .safetensors or a tensors-only .pth (weights_only)."""
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path))
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # corrupt or unreadable file: name it
        raise InputError(path, "resnet_weights", f"unreadable: {exc}") from exc
    if not isinstance(loaded, dict):
        raise InputError(path, "resnet_weights", "expected a state_dict of tensors")
    return {k: v for k, v in loaded.items() if not k.startswith("fc.")}


REGISTRY: dict[str, type[nn.Module]] = {
    "state": StateEncoder,
    "conv": ConvEncoder,
    "resnet18": ResNet18Encoder,
}
"""Encoder families by `EncoderConfig.kind`; each is built as cls(config, step_dim)."""


def make_encoder(config: EncoderConfig, step_dim: int) -> nn.Module:
    """Build the encoder `config.kind` names (heavy imports happen inside the class)."""
    return REGISTRY[config.kind](config, step_dim)


class MeanPool(nn.Module):
    """Average over time: (B, T, E) → (B, E)."""

    def __init__(self, config: EncoderConfig) -> None:
        super().__init__()
        del config

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """Pool."""
        return h.mean(dim=1)


class ConvPool(nn.Module):
    """Two 1-D convolutions over time (kernel 5), then the average: (B, T, E) → (B, E)."""

    def __init__(self, config: EncoderConfig) -> None:
        super().__init__()
        e = config.embed_dim
        self.conv = nn.Sequential(
            nn.Conv1d(e, e, 5, padding=2), nn.ReLU(), nn.Conv1d(e, e, 5, padding=2)
        )

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """Pool."""
        out: torch.Tensor = self.conv(h.transpose(1, 2))
        return out.mean(dim=2)


class TransformerPool(nn.Module):
    """A 2-layer transformer encoder with learned positions, then the average."""

    def __init__(self, config: EncoderConfig) -> None:
        super().__init__()
        e = config.embed_dim
        heads = 4 if e % 4 == 0 else 1
        self.position = nn.Parameter(torch.zeros(1, config.n_steps, e))
        layer = nn.TransformerEncoderLayer(
            e, heads, dim_feedforward=2 * e, dropout=0.0, batch_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        """Pool."""
        out: torch.Tensor = self.encoder(h + self.position)
        return out.mean(dim=1)


TEMPORAL: dict[Temporal, Callable[[EncoderConfig], nn.Module]] = {
    Temporal.MEAN: MeanPool,
    Temporal.CONV: ConvPool,
    Temporal.TRANSFORMER: TransformerPool,
}
"""Temporal aggregations by `EncoderConfig.temporal`."""


def make_temporal(config: EncoderConfig) -> nn.Module:
    """Build the temporal aggregation `config.temporal` names."""
    return TEMPORAL[config.temporal](config)

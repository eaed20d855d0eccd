"""Frozen pretrained image backbones in the reward model: the shared frontend and the feature head.

A `pretrained` reward model splits in two:

- `Frontend` — one frozen backbone (`robopref.vision`), shared by every ensemble member, that
  maps raw frames (B, T, C, H, W, 3) uint8 of C cameras to per-frame features (B, T, C·F). It
  runs in the exported ONNX graph and at scoring time; training never calls it, because the
  pool's embedding cache already holds every frame's features.
- `FeatureEncoder` — each member's trainable part: LayerNorm and dropout on the features, a
  2-layer per-frame MLP to the embedding width, plus the frame's elapsed time (frames-only
  models have no other clock).

So training a head costs seconds on the CPU while the checkpoint, the ONNX graph and the
release still take raw frames.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from robopref.reward.config import EncoderConfig

if TYPE_CHECKING:
    from robopref.vision import Backbone


def backbone_for(config: EncoderConfig, *, weights: bool = True) -> Backbone:
    """The frozen backbone `config` names.

    `weights=False` builds the architecture only (a checkpoint's own tensors are loaded into
    it next).

    Raises:
        InputError: An unknown backbone, or weights that are missing or do not fit.
    """
    from robopref.vision import load_backbone

    return load_backbone(
        config.backbone,
        config.backbone_weights,
        input_size=config.input_size or None,
        architecture_only=not weights,
    )


def backbone_record(backbone: Backbone) -> dict[str, Any]:
    """What a checkpoint and its model card record about the backbone.

    Name, architecture, weights digest and source, input size and feature width.
    """
    return {
        "name": backbone.spec.name,
        "architecture": backbone.spec.timm_name,
        "weights_digest": backbone.weights_digest,
        "weights_source": backbone.weights_source,
        "input_size": backbone.input_size,
        "feature_dim": backbone.feature_dim,
    }


class Frontend(nn.Module):
    """Frames of C cameras → concatenated per-frame features: (B, T, C, H, W, 3) → (B, T, C·F).

    As the ensemble's shared frontend it is frozen: no gradients, and the backbone stays in
    eval mode (BatchNorm statistics never move) whatever the ensemble is set to. A fine-tuned
    member owns one of its own over an unfrozen backbone (`Backbone.unfreeze()`).
    """

    def __init__(self, backbone: Backbone) -> None:
        super().__init__()
        self.backbone = backbone
        for parameter in self.backbone.parameters():
            parameter.requires_grad_(False)
        self.backbone.eval()

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """Embed every frame of every camera."""
        b, t, c = frames.shape[:3]
        flat = frames.reshape(b * t * c, *frames.shape[3:])
        features: torch.Tensor = self.backbone(flat)
        return features.reshape(b, t, c * features.shape[-1])


class FeatureEncoder(nn.Module):
    """Per-frame features (B, T, F) [+ normalised elapsed time (B, T, 1)] → (B, T, E)."""

    def __init__(self, config: EncoderConfig, feature_dim: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(feature_dim)
        self.dropout = nn.Dropout(config.feature_dropout)
        self.mlp = nn.Sequential(
            nn.Linear(feature_dim, config.hidden_dim),
            nn.ReLU(),
            nn.Linear(config.hidden_dim, config.embed_dim),
        )
        self.time: nn.Linear | None = (
            nn.Linear(1, config.embed_dim) if config.times_frames else None
        )

    def forward(self, features: torch.Tensor, times: torch.Tensor | None = None) -> torch.Tensor:
        """Embed each frame's features (and its time, when the model reads it)."""
        h: torch.Tensor = self.mlp(self.dropout(self.norm(features.float())))
        if self.time is not None:
            if times is None:
                raise ValueError("steps: this frames-only model reads each frame's elapsed time")
            h = h + self.time(times)
        return h

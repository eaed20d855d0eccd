"""Tiny frame encoders with the Backbone interface, for the embedding cache tests."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class Spec:
    name: str


class PixelEncoder(nn.Module):
    """Features are the frame's pixels (exact in float16), so shifts can be read back."""

    def __init__(self, size: int = 16, name: str = "pixels", digest: str = "random") -> None:
        super().__init__()
        self.spec = Spec(name)
        self.input_size = size
        self.weights_digest = digest
        self.feature_dim = size * size * 3
        self.calls: list[int] = []
        """Images per forward, in order."""
        self.grad_enabled: list[bool] = []

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        assert frames.dtype == torch.uint8 and frames.ndim == 4 and frames.shape[-1] == 3
        self.calls.append(len(frames))
        self.grad_enabled.append(torch.is_grad_enabled())
        x = frames.permute(0, 3, 1, 2).float()
        if x.shape[-1] != self.input_size or x.shape[-2] != self.input_size:
            x = F.interpolate(x, size=(self.input_size, self.input_size), mode="nearest")
        return x.flatten(1)


class MeanEncoder(PixelEncoder):
    """Per-channel means over a 4 × 4 grid (48 features), with one learnable weight."""

    def __init__(self, name: str = "means", digest: str = "random") -> None:
        super().__init__(16, name, digest)
        self.feature_dim = 48
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        self.calls.append(len(frames))
        self.grad_enabled.append(torch.is_grad_enabled())
        x = frames.permute(0, 3, 1, 2).float() / 255
        return (F.adaptive_avg_pool2d(x, 4).flatten(1) * self.scale).to(torch.float32)

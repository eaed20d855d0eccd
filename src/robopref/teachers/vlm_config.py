"""Settings of the vision-language labeler and its adapters.

Kept apart from the torch code: the CLI reads the defaults when it loads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["AdapterConfig", "VLMConfig"]


@dataclass(frozen=True, kw_only=True)
class AdapterConfig:
    """The adapters' shape and how they are trained."""

    hidden: int = 64
    """Hidden width of each adapter MLP and of the inverse-dynamics head."""
    residual: float = 0.2
    """α of `(1 − α)·e + α·MLP(e)` (CLIP-Adapter's ratio, which PrefVLM's adapters follow)."""
    temperature: float = 1.0
    """τ of P(A ≻ B) = σ((R_A − R_B) / τ), R a sum of per-frame cosines, in units of the
    spread (standard deviation) of R over the training trajectories; with human labels it is
    only the start, and the preference loss learns 1 / τ (CLIP's logit scale)."""
    steps: int = 300
    """Optimiser steps (Adam)."""
    batch_size: int = 256
    """Transitions (and at most this many labelled pairs) per step."""
    lr: float = 1e-3
    """Adam learning rate."""
    weight_decay: float = 0.0
    """AdamW's decoupled weight decay."""
    preference_weight: float = 1.0
    """Weight of the preference loss beside the inverse-dynamics loss (when labels exist)."""
    seed: int = 0
    """Initialisation and batch sampling."""

    def __post_init__(self) -> None:
        for name in ("hidden", "steps", "batch_size"):
            value = getattr(self, name)
            if type(value) is not int or value < (0 if name == "steps" else 1):
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if not 0.0 <= self.residual <= 1.0:
            raise ValueError(f"residual must be in [0, 1], got {self.residual}")
        for name in ("temperature", "lr"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if not self.weight_decay >= 0:
            raise ValueError(f"weight_decay must be ≥ 0, got {self.weight_decay}")
        if not self.preference_weight >= 0:
            raise ValueError(f"preference_weight must be ≥ 0, got {self.preference_weight}")


@dataclass(frozen=True, kw_only=True)
class VLMConfig:
    """How the vision-language labeler embeds, trains and answers."""

    camera: str | None = None
    """Pool camera whose frames are judged; None for the pool's primary camera."""
    abstain_margin: float = 0.02
    """Abstain when |P(A ≻ B) − 0.5| is below this."""
    tie_margin: float = 0.0
    """Answer `equal` when |P(A ≻ B) − 0.5| is below this (and not abstaining)."""
    device: str = "auto"
    """Where clips missing from the embedding cache are embedded: auto, cpu or cuda."""
    batch_size: int = 256
    """Frames per forward of the image tower."""
    cache_root: Path | None = None
    """Embedding cache root; None for the pool's own (`POOL/.cache/embeddings`)."""
    adapter: AdapterConfig = field(default_factory=AdapterConfig)
    """The adapters' shape and training."""

    def __post_init__(self) -> None:
        for name in ("abstain_margin", "tie_margin"):
            if not 0.0 <= getattr(self, name) <= 0.5:
                raise ValueError(f"{name} must be in [0, 0.5], got {getattr(self, name)}")

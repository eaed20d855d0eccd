"""The reward network: encoder → FiLM language conditioning → temporal aggregation → MLP → r."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

from robopref.reward.config import EncoderConfig, Temporal
from robopref.reward.encoders import StateEncoder, make_encoder, make_temporal
from robopref.reward.pretrained import FeatureEncoder, Frontend


@dataclass(frozen=True, kw_only=True)
class NetSpec:
    """Everything needed to rebuild a RewardNet before loading its weights."""

    encoder: EncoderConfig
    """Encoder family, aggregation and input settings."""
    step_dim: int
    """Per-step state input width D (state encoder, or image + state); 0 for image only."""
    language_dim: int
    """Instruction embedding width (384 for MiniLM); 0 without language conditioning."""
    camera: str | None = None
    """Camera the image encoders read (the first of `cameras` for a pretrained backbone); None
    for the state encoder."""
    cameras: tuple[str, ...] = ()
    """Pretrained backbone: every camera whose features are concatenated, in order."""
    feature_dim: int = 0
    """Pretrained backbone: width of one camera's per-frame feature; 0 otherwise."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "cameras", tuple(self.cameras))
        if self.step_dim < 0:
            raise ValueError(f"step_dim: must be ≥ 0, got {self.step_dim}")
        if self.language_dim < 0:
            raise ValueError(f"language_dim: must be ≥ 0, got {self.language_dim}")
        if self.encoder.pretrained and (self.feature_dim < 1 or not self.cameras):
            raise ValueError("feature_dim, cameras: a pretrained backbone needs both")

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        data = asdict(self)
        enc = data["encoder"]
        enc["temporal"] = self.encoder.temporal.value
        for name in ("resnet_weights", "backbone_weights"):
            weights = getattr(self.encoder, name)
            enc[name] = None if weights is None else str(weights)
        enc["cameras"] = list(self.encoder.cameras)
        data["cameras"] = list(self.cameras)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NetSpec:
        """Rebuild from `to_json` output (the state dict carries any pretrained weights)."""
        enc = dict(data["encoder"])
        enc["temporal"] = Temporal(enc["temporal"])
        enc["resnet_weights"] = None
        enc["backbone_weights"] = None  # the checkpoint carries the backbone's tensors
        enc.setdefault("motion_features", False)  # checkpoints from before the options
        enc.setdefault("with_state", False)
        enc.setdefault("finetune", False)
        return cls(
            encoder=EncoderConfig(**enc),
            step_dim=int(data["step_dim"]),
            language_dim=int(data["language_dim"]),
            camera=data.get("camera"),
            cameras=tuple(data.get("cameras") or ()),
            feature_dim=int(data.get("feature_dim") or 0),
        )


class RewardNet(nn.Module):
    """One reward network: r(trajectory, instruction) → one scalar.

    Inputs: `x`, (B, n_steps, D) float32 raw state + action (normalised inside with the
    training statistics) or (B, n_steps, H, W, 3) uint8 frames; `task_embedding`, (B, 384)
    float32, or None without language conditioning; `steps`, (B, n_steps, D) raw state +
    action beside the frames of an image + state model (`EncoderConfig.with_state`), whose
    per-step embedding is added to each frame's. Output: (B,) rewards.

    A pretrained-backbone member reads per-frame features (B, n_steps, C·F); one that
    fine-tunes its backbone (`EncoderConfig.finetune`) owns it as `frontend` (built by the
    caller, trainable) and reads raw frames (B, n_steps, C, H, W, 3) uint8 instead. Its
    BatchNorm statistics stay as pretrained in training mode too (see `train`).
    """

    step_mean: torch.Tensor
    step_std: torch.Tensor

    def __init__(self, spec: NetSpec, frontend: Frontend | None = None) -> None:
        super().__init__()
        cfg = spec.encoder
        self.spec = spec
        if cfg.finetune and frontend is None:
            raise ValueError("frontend: a fine-tuned member owns its backbone; pass it in")
        if frontend is not None and not cfg.finetune:
            raise ValueError("frontend: only a fine-tuned member owns a backbone")
        self.frontend = frontend
        self.encoder = (
            FeatureEncoder(cfg, spec.feature_dim * len(spec.cameras))
            if cfg.pretrained
            else make_encoder(cfg, spec.step_dim)
        )
        self.step_encoder: StateEncoder | None = None
        self.frame_gate: nn.Parameter | None = None
        if cfg.fuses_state:
            self.step_encoder = StateEncoder(cfg, spec.step_dim)
            # ReZero-style gate (Bachlechner et al. 2021), 0 at init: training starts from the
            # state model and lets the frames in only as far as they lower the loss.
            self.frame_gate = nn.Parameter(torch.zeros(1))
        self.temporal = make_temporal(cfg)
        # FiLM (Perez et al. 2018): the instruction scales and shifts every step's features,
        # so one network can judge the same motion differently per task.
        self.film: nn.Linear | None = None
        if spec.language_dim:
            self.film = nn.Linear(spec.language_dim, 2 * cfg.embed_dim)
        self.head = nn.Sequential(
            nn.Linear(cfg.embed_dim, cfg.hidden_dim),
            nn.ReLU(),
            nn.Dropout(cfg.dropout),
            nn.Linear(cfg.hidden_dim, 1),
        )
        self.register_buffer("step_mean", torch.zeros(max(spec.step_dim, 1)))
        self.register_buffer("step_std", torch.ones(max(spec.step_dim, 1)))

    def train(self, mode: bool = True) -> RewardNet:
        """Training mode, except the backbone's BatchNorm layers: their statistics stay put.

        A fine-tuning batch holds a few trajectories whose frames are nearly alike, so batch
        statistics would be poor estimates (and would differ between DDP ranks); the
        pretrained running statistics are kept and the affine parameters train.
        """
        super().train(mode)
        if self.frontend is not None:
            for module in self.frontend.modules():
                if isinstance(module, nn.modules.batchnorm._BatchNorm):
                    module.eval()
        return self

    def set_normalisation(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        """Set the (D,) state + action statistics the state encoder normalises with."""
        self.step_mean.copy_(mean)
        self.step_std.copy_(std.clamp_min(1e-6))

    def forward(
        self,
        x: torch.Tensor,
        task_embedding: torch.Tensor | None = None,
        steps: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Rewards (B,) of a batch of trajectories."""
        cfg = self.spec.encoder
        if not cfg.uses_frames:
            x = (x - self.step_mean) / self.step_std
        if cfg.pretrained:
            if self.frontend is not None:
                if x.dtype != torch.uint8:
                    raise ValueError("x: a fine-tuned member embeds raw uint8 frames itself")
                x = self.frontend(x)
            elif x.dtype == torch.uint8:
                raise ValueError("x: a member reads features; frames go through EnsembleNet")
            times = None
            if cfg.times_frames:
                if steps is None:
                    raise ValueError("steps: this frames-only model reads each frame's time")
                times = (steps - self.step_mean) / self.step_std
            h: torch.Tensor = self.encoder(x, times)
        else:
            h = self.encoder(x)
        if self.step_encoder is not None and self.frame_gate is not None:
            if steps is None:
                raise ValueError("steps: this image + state model needs per-step state input")
            h = self.frame_gate * h + self.step_encoder((steps - self.step_mean) / self.step_std)
        if self.film is not None and task_embedding is not None:
            gamma, beta = self.film(task_embedding).unsqueeze(1).chunk(2, dim=-1)
            h = h * (1.0 + gamma) + beta
        pooled: torch.Tensor = self.temporal(h)
        out: torch.Tensor = self.head(pooled)
        return out.squeeze(-1)


def build_net(spec: NetSpec, *, seed: int, frontend: Frontend | None = None) -> RewardNet:
    """A freshly initialised RewardNet; the same seed gives the same weights.

    `frontend` is a fine-tuned member's own (trainable) backbone.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return RewardNet(spec, frontend)


def spec_for(
    encoder: EncoderConfig,
    *,
    step_dim: int,
    language_dim: int,
    camera: str | None,
    cameras: tuple[str, ...] = (),
    feature_dim: int = 0,
) -> NetSpec:
    """The NetSpec of a run (step_dim is dropped for models without a `steps` input)."""
    return NetSpec(
        encoder=encoder,
        step_dim=step_dim if encoder.reads_steps else 0,
        language_dim=language_dim,
        camera=camera if encoder.uses_frames else None,
        cameras=cameras if encoder.pretrained else (),
        feature_dim=feature_dim if encoder.pretrained else 0,
    )

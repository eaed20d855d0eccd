"""PrefVLM's adapters over frozen image–text embeddings and their two losses.

PrefVLM (seed 003, Ghosh et al. 2025) keeps the vision-language model frozen and trains small
adapters on its image and text embeddings: a residual MLP each (CLIP-Adapter's form,
`(1 − α)·e + α·MLP(e)`), with two losses:

- inverse dynamics (self-supervised): an MLP predicts the action a_t from the adapted,
  L2-normalised embeddings of consecutive frames (e_t, e_{t+1}), mean squared error on
  actions standardised per dimension; it needs frames and actions only;
- preference (optional): Bradley–Terry cross-entropy of σ(s · (R_A − R_B)) against human
  labels, R = Σ_t cos(adapted e_t, adapted text embedding) with the last frame held to the
  horizon (`segment_return`), s a learnt scale (CLIP's logit
  scale). Without labels s stays 1 / (τ · spread of R over the trajectories): cosines of one
  camera's frames differ by little, so a fixed scale would leave every P(A ≻ B) near 0.5.

The image adapter's MLP reads embeddings standardised per dimension (statistics fixed when
training starts): one camera's frames lie close together in the embedding space, and what
tells them apart is in small deviations. The last layer of each adapter starts at zero, so
an untrained adapter scores exactly as the frozen model does (a cosine ignores the (1 − α)
scale). The file is `vlm_adapter_file`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from robopref.teachers.vlm_config import AdapterConfig

__all__ = [
    "AdapterConfig",
    "AdapterData",
    "AdapterOrigin",
    "FitReport",
    "PreferenceTarget",
    "VLMAdapter",
    "calibrate_scale",
    "fit_adapter",
    "returns",
    "segment_return",
]


@dataclass(frozen=True, kw_only=True)
class AdapterOrigin:
    """What the adapter's input embeddings came from; a mismatch at load time is refused."""

    backbone: str
    """Registry name of the image–text model (`open_clip:<arch>`)."""
    clip_digest: str
    """`sha256:<hex>` of its weights file."""
    camera: str
    """The pool camera whose frames were embedded."""


class PreferenceTarget(NamedTuple):
    """One human-labelled pair, as indices into `AdapterData.frames`."""

    a: int
    b: int
    p_a: float
    """Target P(A ≻ B): 1 (A), 0 (B), 0.5 (equal), or a mean of several labels."""


@dataclass(frozen=True)
class AdapterData:
    """Training inputs: per trajectory its frame embeddings, actions and instruction embedding.

    Attributes:
        frames: (T_i, F) float32 image embeddings of each trajectory's frames.
        actions: (T_i, A) float32 actions (a_t taken between frames t and t + 1).
        texts: (F,) float32 embedding of each trajectory's instruction.
        preferences: Human-labelled pairs over these trajectories (may be empty).
        holds: Steps each trajectory's last frame is held to reach its horizon (`segment_return`);
            empty for none.
    """

    frames: Sequence[torch.Tensor]
    actions: Sequence[torch.Tensor]
    texts: Sequence[torch.Tensor]
    preferences: Sequence[PreferenceTarget] = field(default_factory=tuple)
    holds: Sequence[int] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not len(self.frames) == len(self.actions) == len(self.texts):
            raise ValueError("frames, actions and texts must have one entry per trajectory")
        if self.holds and len(self.holds) != len(self.frames):
            raise ValueError("holds must have one entry per trajectory (or none)")

    def hold(self, i: int) -> int:
        """Steps trajectory i's last frame is held (0 without `holds`)."""
        return int(self.holds[i]) if self.holds else 0
        for i, (f, a) in enumerate(zip(self.frames, self.actions, strict=True)):
            if f.ndim != 2 or a.ndim != 2 or len(f) != len(a):
                raise ValueError(
                    f"trajectory {i}: frames {tuple(f.shape)}, actions {tuple(a.shape)}"
                )
        for target in self.preferences:
            if not (0 <= target.a < len(self.frames) and 0 <= target.b < len(self.frames)):
                raise ValueError(
                    f"preference {target} points outside the {len(self.frames)} trajectories"
                )


class VLMAdapter(nn.Module):
    """Image and text adapters plus the inverse-dynamics head.

    Args:
        feature_dim: Width F of the frozen model's (shared) embedding.
        action_dim: Width A of the actions the head predicts.
        config: Shape and training settings.
    """

    feature_mean: torch.Tensor
    feature_std: torch.Tensor
    action_mean: torch.Tensor
    action_std: torch.Tensor
    input_mean: torch.Tensor
    input_std: torch.Tensor

    def __init__(self, feature_dim: int, action_dim: int, config: AdapterConfig) -> None:
        super().__init__()
        self.feature_dim, self.action_dim, self.config = feature_dim, action_dim, config
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            self.image = _residual_mlp(feature_dim, config.hidden)
            self.text = _residual_mlp(feature_dim, config.hidden)
            self.inverse = nn.Sequential(
                nn.Linear(2 * feature_dim, config.hidden), nn.ReLU(),
                nn.Linear(config.hidden, config.hidden), nn.ReLU(),
                nn.Linear(config.hidden, action_dim),
            )  # fmt: skip
        self.log_scale = nn.Parameter(torch.tensor(-math.log(config.temperature)))
        """log s of P(A ≻ B) = σ(s · (R_A − R_B)), set by `calibrate_scale` and the labels."""
        self.register_buffer("feature_mean", torch.zeros(feature_dim))
        self.register_buffer("feature_std", torch.ones(feature_dim))
        self.register_buffer("action_mean", torch.zeros(action_dim))
        self.register_buffer("action_std", torch.ones(action_dim))
        # Consecutive unit-length embeddings differ by little: the head's inputs are
        # standardised with statistics fixed when training starts (`fit_adapter`).
        self.register_buffer("input_mean", torch.zeros(2 * feature_dim))
        self.register_buffer("input_std", torch.ones(2 * feature_dim))

    def adapt_image(self, e: torch.Tensor) -> torch.Tensor:
        """(..., F) image embeddings → adapted, unit-length (..., F)."""
        alpha = self.config.residual
        mlp = self.image((e - self.feature_mean) / self.feature_std)
        return F.normalize((1 - alpha) * e + alpha * mlp, dim=-1)

    def adapt_text(self, e: torch.Tensor) -> torch.Tensor:
        """(..., F) text embeddings → adapted, unit-length (..., F)."""
        alpha = self.config.residual
        return F.normalize((1 - alpha) * e + alpha * self.text(e), dim=-1)

    @property
    def scale(self) -> float:
        """The learnt 1 / τ of P(A ≻ B) = σ((R_A − R_B) / τ)."""
        return float(self.log_scale.detach().exp())

    def frame_rewards(self, frames: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        """(T,) cos(adapted frame t, adapted instruction) of (T, F) frames and an (F,) text."""
        return self.adapt_image(frames) @ self.adapt_text(text)

    def predict_action(self, e_t: torch.Tensor, e_next: torch.Tensor) -> torch.Tensor:
        """(N, A) standardised actions predicted from (N, F) consecutive frame embeddings."""
        out: torch.Tensor = self.inverse(
            (self.head_input(e_t, e_next) - self.input_mean) / self.input_std
        )
        return out

    def head_input(self, e_t: torch.Tensor, e_next: torch.Tensor) -> torch.Tensor:
        """(N, 2F): the adapted frame t and its change to frame t + 1."""
        z_t, z_next = self.adapt_image(e_t), self.adapt_image(e_next)
        return torch.cat([z_t, z_next - z_t], -1)


def _residual_mlp(width: int, hidden: int) -> nn.Sequential:
    mlp = nn.Sequential(nn.Linear(width, hidden), nn.ReLU(), nn.Linear(hidden, width))
    last = mlp[-1]
    assert isinstance(last, nn.Linear)
    nn.init.zeros_(last.weight)  # an untrained adapter leaves the cosines as they are
    nn.init.zeros_(last.bias)
    return mlp


@dataclass(frozen=True, kw_only=True)
class FitReport:
    """Losses on the whole training set before and after `fit_adapter`."""

    inverse_before: float
    inverse_after: float
    preference_before: float | None
    """None without labelled pairs."""
    preference_after: float | None
    transitions: int
    pairs: int
    steps: int
    seconds: float


class _Transitions(NamedTuple):
    e_t: torch.Tensor
    e_next: torch.Tensor
    action: torch.Tensor


def _transitions(data: AdapterData, adapter: VLMAdapter) -> _Transitions:
    """Every (e_t, e_{t+1}, standardised a_t) of the data.

    Fixes the adapter's feature, head-input and action statistics on the way.
    """
    frames = torch.cat(list(data.frames))
    if len(frames):
        adapter.feature_mean.copy_(frames.mean(0))
        adapter.feature_std.copy_(frames.std(0, unbiased=False).clamp_min(1e-6))
    e_t = torch.cat([f[:-1] for f in data.frames])
    e_next = torch.cat([f[1:] for f in data.frames])
    actions = torch.cat([a[:-1] for a in data.actions]).float()
    if len(actions):
        adapter.action_mean.copy_(actions.mean(0))
        adapter.action_std.copy_(actions.std(0, unbiased=False).clamp_min(1e-6))
        with torch.no_grad():
            inputs = adapter.head_input(e_t, e_next)
        adapter.input_mean.copy_(inputs.mean(0))
        adapter.input_std.copy_(inputs.std(0, unbiased=False).clamp_min(1e-6))
    return _Transitions(e_t, e_next, (actions - adapter.action_mean) / adapter.action_std)


def _inverse_loss(
    adapter: VLMAdapter, t: _Transitions, idx: torch.Tensor | None = None
) -> torch.Tensor:
    if idx is not None:
        t = _Transitions(t.e_t[idx], t.e_next[idx], t.action[idx])
    return F.mse_loss(adapter.predict_action(t.e_t, t.e_next), t.action)


def segment_return(rewards: torch.Tensor, hold: int) -> torch.Tensor:
    """R = Σ_t r_t + r_{T−1} · hold: the last frame held to the horizon.

    Episodes end soon after success, so a plain sum would favour slow trajectories; the hold
    is the one `robopref.pool.true_return` applies to the simulator's reward.

    >>> round(float(segment_return(torch.tensor([0.1, 0.2, 0.5]), 2)), 4)
    1.8
    """
    return rewards.sum() + rewards[-1] * hold if len(rewards) else rewards.sum()


def returns(adapter: VLMAdapter, data: AdapterData) -> torch.Tensor:
    """(N,) R of each trajectory (`segment_return` of its per-frame cosines)."""
    with torch.no_grad():
        rewards = [
            segment_return(adapter.frame_rewards(data.frames[i], data.texts[i]), data.hold(i))
            for i in range(len(data.frames))
        ]
    return torch.stack(rewards) if rewards else torch.zeros(0)


def calibrate_scale(adapter: VLMAdapter, data: AdapterData) -> float:
    """Set s = 1 / (τ · std of R over the trajectories); returns that std (0: s left as is)."""
    spread = float(returns(adapter, data).std(unbiased=False)) if len(data.frames) > 1 else 0.0
    if spread > 0 and math.isfinite(spread):
        with torch.no_grad():
            adapter.log_scale.fill_(-math.log(adapter.config.temperature * spread))
    return spread


def _preference_loss(
    adapter: VLMAdapter, data: AdapterData, targets: Sequence[PreferenceTarget]
) -> torch.Tensor:
    """Bradley–Terry cross-entropy of the adapted segment returns (PrefVLM's preference loss)."""
    used = sorted({i for t in targets for i in (t.a, t.b)})
    r = {
        i: segment_return(adapter.frame_rewards(data.frames[i], data.texts[i]), data.hold(i))
        for i in used
    }
    diff = torch.stack([r[t.a] - r[t.b] for t in targets])
    target = torch.tensor([t.p_a for t in targets], dtype=diff.dtype)
    return F.binary_cross_entropy_with_logits(diff * adapter.log_scale.exp(), target)


def _losses(adapter: VLMAdapter, data: AdapterData, t: _Transitions) -> tuple[float, float | None]:
    with torch.no_grad():
        inverse = float(_inverse_loss(adapter, t)) if len(t.action) else math.nan
        pref = (
            float(_preference_loss(adapter, data, data.preferences)) if data.preferences else None
        )
    return inverse, pref


def fit_adapter(adapter: VLMAdapter, data: AdapterData) -> FitReport:
    """Train the adapters with the inverse-dynamics loss (+ the preference loss on labels).

    Runs `adapter.config.steps` Adam steps on random batches of transitions (and of labelled
    pairs, when there are any), on the CPU; the adapter ends in eval mode. The scale s starts
    from `calibrate_scale`; without labels it is calibrated again at the end.
    """
    started = time.perf_counter()
    config = adapter.config
    transitions = _transitions(data, adapter)
    calibrate_scale(adapter, data)
    inverse_before, pref_before = _losses(adapter, data, transitions)
    generator = torch.Generator().manual_seed(config.seed)
    optimiser = torch.optim.AdamW(
        adapter.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    n, pairs = len(transitions.action), list(data.preferences)
    adapter.train()
    for _ in range(config.steps if n or pairs else 0):
        loss = torch.zeros(())
        if n:
            idx = torch.randint(n, (min(config.batch_size, n),), generator=generator)
            loss = loss + _inverse_loss(adapter, transitions, idx)
        if pairs and config.preference_weight > 0:
            pick = torch.randperm(len(pairs), generator=generator)[: config.batch_size]
            chosen = [pairs[int(i)] for i in pick]
            loss = loss + config.preference_weight * _preference_loss(adapter, data, chosen)
        optimiser.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]
        optimiser.step()
    adapter.eval()
    if not pairs or config.preference_weight == 0:
        calibrate_scale(adapter, data)
    inverse_after, pref_after = _losses(adapter, data, transitions)
    return FitReport(
        inverse_before=inverse_before, inverse_after=inverse_after,
        preference_before=pref_before, preference_after=pref_after,
        transitions=n, pairs=len(pairs), steps=config.steps if n or pairs else 0,
        seconds=time.perf_counter() - started,
    )  # fmt: skip

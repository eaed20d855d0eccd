"""The policy the stage improves: N(μ(s), σ²), μ the BC MLP, σ state-independent.

The weights are those of a BC checkpoint (`robopref.sim.bc.BCCheckpoint.weights`): the MLP's
layers, the observation normalisation (fixed, a buffer) and `log_std` (trainable). Workers
roll a policy out in numpy from `weights()`; training and the likelihood terms are here.
For two such policies the KL divergence is exact per state:

    KL(π ‖ π_ref)(s) = Σ_d log(σ_ref,d / σ_d) + (σ_d² + (μ_d(s) − μ_ref,d(s))²) / (2σ_ref,d²) − ½
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import torch
from torch import nn

from robopref.sim.bc import LAYERS, LOG_STD, MIN_STD, bc_network

LOG_2PI = math.log(2.0 * math.pi)


class GaussianPolicy(nn.Module):
    """A diagonal Gaussian policy whose mean is the BC network.

    Args:
        weights: BC checkpoint weights (float arrays; `log_std` may be absent: then σ = 0.1).
    """

    obs_mean: torch.Tensor
    obs_std: torch.Tensor

    def __init__(self, weights: Mapping[str, np.ndarray]) -> None:
        super().__init__()
        w = {k: torch.as_tensor(np.asarray(v, np.float32)) for k, v in weights.items()}
        n_in = int(w[f"{LAYERS[0]}.weight"].shape[1])
        n_out = int(w[f"{LAYERS[-1]}.weight"].shape[0])
        self.net = bc_network(n_in, n_out)
        self.net.load_state_dict(
            {f"{layer}.{p}": w[f"{layer}.{p}"] for layer in LAYERS for p in ("weight", "bias")}
        )
        self.register_buffer("obs_mean", w["obs_mean"].clone())
        self.register_buffer("obs_std", w["obs_std"].clone())
        log_std = w.get(LOG_STD, torch.full((n_out,), math.log(0.1)))
        self.log_std = nn.Parameter(log_std.clone())

    @property
    def action_dim(self) -> int:
        """Width of an action."""
        return int(self.log_std.shape[0])

    def mean(self, obs: torch.Tensor) -> torch.Tensor:
        """μ(s) for a batch of observations (B, obs_dim) → (B, action_dim)."""
        out: torch.Tensor = self.net((obs - self.obs_mean) / self.obs_std)
        return out

    def std(self) -> torch.Tensor:
        """σ (action_dim,), floored at `MIN_STD`."""
        return self.log_std.exp().clamp_min(MIN_STD)

    def log_prob(self, obs: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        """Log π(a | s) per row (B,), summed over action dimensions."""
        std = self.std()
        z = (action - self.mean(obs)) / std
        return -0.5 * (z**2 + LOG_2PI).sum(-1) - torch.log(std).sum()

    def kl_to(self, reference: GaussianPolicy, obs: torch.Tensor) -> torch.Tensor:
        """KL(self ‖ reference) per state (B,), exact for the two Gaussians."""
        mu, mu_ref = self.mean(obs), reference.mean(obs)
        var, var_ref = self.std() ** 2, reference.std() ** 2
        per_dim = 0.5 * (torch.log(var_ref / var) + (var + (mu - mu_ref) ** 2) / var_ref - 1.0)
        return per_dim.sum(-1)

    def weights(self) -> dict[str, np.ndarray]:
        """The policy as BC checkpoint weights (float32 numpy), for workers and safetensors."""
        out = {k: _array(v) for k, v in self.net.state_dict().items()}
        out["obs_mean"] = _array(self.obs_mean)
        out["obs_std"] = _array(self.obs_std)
        out[LOG_STD] = _array(torch.log(self.std()))
        return out

    def with_min_std(self, min_std: float) -> GaussianPolicy:
        """A copy whose σ is at least `min_std` in every dimension.

        BC on a few smooth demos fits them to σ ≈ 0.002–0.01: candidates sampled at that
        width are all alike, and a KL anchor that narrow forbids any change of the mean
        (KL = Δμ² / 2σ²). Flooring σ (0.05 by default in the policy stage) fixes both.
        """
        weights = self.weights()
        weights[LOG_STD] = np.maximum(weights[LOG_STD], np.float32(math.log(min_std)))
        return GaussianPolicy(weights)

    def frozen_copy(self) -> GaussianPolicy:
        """An independent copy with gradients off (a KL anchor)."""
        copy = GaussianPolicy(self.weights())
        copy.requires_grad_(False)
        return copy.eval()


def _array(t: torch.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy().astype(np.float32).copy()

"""Behaviour cloning: the pool's `policy_checkpoint_N` tier and the policy stage's reference.

A small MLP (observation → action, tanh output) is trained by MSE on expert episodes of one
task; its weights are saved at `checkpoints` points of one run, on a geometric schedule
(ratio 4), so checkpoint 1 is a barely trained policy and checkpoint N the finished one.
Each checkpoint also stores `log_std`, the log of the per-dimension RMS action error on
the training demos: the state-independent σ of the Gaussian policy N(μ(s), σ²) whose mean
is the MLP (MSE training is its maximum likelihood for fixed σ). Workers run the policy in
numpy, so they never import torch: deterministically (the mean) or sampling.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from robopref.sim.controllers import clip_action
from robopref.types import MetadataValue

if TYPE_CHECKING:
    import torch

TensorPair = tuple["torch.Tensor", "torch.Tensor"]

HIDDEN = 128
"""Width of the two hidden layers."""
BATCH = 256
"""Minibatch size."""
LEARNING_RATE = 1e-3
"""Adam learning rate."""
RATIO = 4.0
"""Each checkpoint has trained this many times longer than the one before."""
LAYERS = ("0", "2", "4")
"""Names of the linear layers in the torch Sequential (and in the saved weights)."""
LOG_STD = "log_std"
"""Weights key of the Gaussian policy's (action_dim,) log standard deviation."""
MIN_STD = 1e-3
"""Floor of σ: a policy that fits its demos exactly still explores a little."""


@dataclass(frozen=True)
class BCCheckpoint:
    """One saved point of a BC run."""

    index: int
    """1 = earliest (worst) … N = final."""
    steps: int
    """Gradient steps taken when it was saved."""
    train_loss: float
    """Mean squared action error on the training demos."""
    val_loss: float | None
    """Mean squared action error on the held-out demo, if there was one."""
    weights: dict[str, np.ndarray]
    """float32 arrays: `obs_mean`, `obs_std`, `{layer}.weight`, `{layer}.bias`, `log_std`."""


def checkpoint_steps(total: int, n: int) -> list[int]:
    """Gradient steps at which each of `n` checkpoints is saved (geometric, ratio 4).

    >>> checkpoint_steps(800, 3)
    [50, 200, 800]
    """
    return [max(1, round(total / RATIO ** (n - k))) for k in range(1, n + 1)]


def train_bc(
    episodes: Sequence[tuple[np.ndarray, np.ndarray]], *, checkpoints: int, steps: int, seed: int
) -> list[BCCheckpoint]:
    """Train one BC policy on expert episodes and return its checkpoints.

    Args:
        episodes: (observations (T, 39), actions (T, 4)) per expert episode; the last one is
            held out for the validation loss when there are at least two.
        checkpoints: Number of checkpoints N.
        steps: Total gradient steps.
        seed: Seed of initialisation and minibatch order.

    Returns:
        N checkpoints, earliest first.
    """
    import torch

    held_out = len(episodes) >= 2
    train = episodes[:-1] if held_out else episodes
    obs = np.concatenate([o for o, _ in train]).astype(np.float32)
    act = np.concatenate([a for _, a in train]).astype(np.float32)
    mean, std = obs.mean(0), np.maximum(obs.std(0), 1e-3)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # deterministic and polite on a shared machine
    denormals = torch.set_flush_denormal(True)  # tiny late-training gradients are slow otherwise
    try:
        gen = torch.Generator().manual_seed(seed)
        torch.manual_seed(seed)
        net = bc_network(obs.shape[1], act.shape[1])
        optimiser = torch.optim.Adam(net.parameters(), lr=LEARNING_RATE)
        x = torch.from_numpy((obs - mean) / std)
        y = torch.from_numpy(act)
        val = _tensors(episodes[-1], mean, std) if held_out else None
        out: list[BCCheckpoint] = []
        done = 0
        for index, target in enumerate(checkpoint_steps(steps, checkpoints), start=1):
            for _ in range(target - done):
                batch = torch.randint(0, len(x), (min(BATCH, len(x)),), generator=gen)
                loss = torch.mean((net(x[batch]) - y[batch]) ** 2)
                optimiser.zero_grad()
                loss.backward()  # type: ignore[no-untyped-call]
                optimiser.step()
            done = target
            out.append(
                _checkpoint(net, index=index, steps=done, data=(x, y), val=val, norm=(mean, std))
            )
        return out
    finally:
        torch.set_num_threads(threads)
        if denormals:
            torch.set_flush_denormal(False)


def bc_network(n_in: int, n_out: int) -> torch.nn.Sequential:
    """The MLP: n_in → HIDDEN → HIDDEN → n_out, ReLU, tanh output (layers 0, 2, 4)."""
    import torch

    return torch.nn.Sequential(
        torch.nn.Linear(n_in, HIDDEN),
        torch.nn.ReLU(),
        torch.nn.Linear(HIDDEN, HIDDEN),
        torch.nn.ReLU(),
        torch.nn.Linear(HIDDEN, n_out),
        torch.nn.Tanh(),
    )


def _tensors(
    episode: tuple[np.ndarray, np.ndarray], mean: np.ndarray, std: np.ndarray
) -> TensorPair:
    import torch

    obs, act = episode
    return (
        torch.from_numpy(((obs - mean) / std).astype(np.float32)),
        torch.from_numpy(act.astype(np.float32)),
    )


def _checkpoint(
    net: torch.nn.Module,
    *,
    index: int,
    steps: int,
    data: TensorPair,
    val: TensorPair | None,
    norm: tuple[np.ndarray, np.ndarray],
) -> BCCheckpoint:
    import torch

    def mse(pair: TensorPair) -> float:
        x, y = pair
        with torch.no_grad():
            return float(torch.mean((net(x) - y) ** 2))

    x, y = data
    with torch.no_grad():
        rms = torch.sqrt(torch.mean((net(x) - y) ** 2, dim=0)).clamp_min(MIN_STD)
    weights = {k: v.detach().numpy().astype(np.float32).copy() for k, v in net.state_dict().items()}
    weights["obs_mean"] = norm[0].astype(np.float32)
    weights["obs_std"] = norm[1].astype(np.float32)
    weights[LOG_STD] = torch.log(rms).numpy().astype(np.float32)
    return BCCheckpoint(index, steps, mse(data), None if val is None else mse(val), weights)


class BCController:
    """A BC (or fine-tuned) policy rolled out in numpy.

    Args:
        weights: Checkpoint weights (`BCCheckpoint.weights`).
        name: Recorded as the `policy` parameter.
        rng: Sample a ~ N(μ(s), σ²) with this generator (σ from `log_std`, times
            `noise_scale`); None acts deterministically (the mean).
        noise_scale: Multiplies σ when sampling.
        noise_correlation: ρ of AR(1) noise, ε_t = ρ·ε_{t−1} + √(1−ρ²)·ξ_t (each step's
            marginal stays N(0, σ²)); 0 draws each step afresh. Correlated noise makes
            whole candidate episodes differ consistently, which best-of-N and
            trajectory-level credit assignment need.

    Raises:
        ValueError: Sampling asked of weights without `log_std` (saved before it existed).
    """

    def __init__(
        self,
        weights: Mapping[str, np.ndarray],
        *,
        name: str,
        rng: np.random.Generator | None = None,
        noise_scale: float = 1.0,
        noise_correlation: float = 0.0,
    ) -> None:
        if not 0.0 <= noise_correlation < 1.0:
            raise ValueError(f"noise_correlation: must lie in [0, 1), got {noise_correlation}")
        self._w = {k: np.asarray(v, np.float64) for k, v in weights.items()}
        self._rng = rng
        self._rho = noise_correlation
        self._eps: np.ndarray | None = None
        self.params: dict[str, MetadataValue] = {"policy": name}
        if rng is not None:
            if LOG_STD not in self._w:
                raise ValueError(f"{name}: weights have no {LOG_STD!r}; cannot sample")
            self._std = np.exp(self._w[LOG_STD]) * noise_scale
            self.params["noise_scale"] = noise_scale
            self.params["noise_correlation"] = noise_correlation

    def mean(self, obs: np.ndarray) -> np.ndarray:
        """μ(s): the network's (unclipped, tanh-bounded) action for `obs`."""
        h = (np.asarray(obs, np.float64) - self._w["obs_mean"]) / self._w["obs_std"]
        for i, layer in enumerate(LAYERS):
            h = h @ self._w[f"{layer}.weight"].T + self._w[f"{layer}.bias"]
            h = np.maximum(h, 0.0) if i < len(LAYERS) - 1 else np.tanh(h)
        return h

    def act(self, obs: np.ndarray) -> np.ndarray:
        """The policy's action for `obs`: the mean, or a sample around it; clipped."""
        mu = self.mean(obs)
        if self._rng is None:
            return clip_action(mu)
        fresh = self._rng.standard_normal(mu.shape)
        if self._eps is None or self._rho == 0.0:
            self._eps = fresh
        else:
            self._eps = self._rho * self._eps + np.sqrt(1.0 - self._rho**2) * fresh
        return clip_action(mu + self._std * self._eps)


def save_checkpoints(checkpoints: Sequence[BCCheckpoint], directory: Path, *, task: str) -> None:
    """Write `checkpoint_N.safetensors` and one `checkpoints.json` (losses, steps) per task."""
    from safetensors.numpy import save_file

    directory.mkdir(parents=True, exist_ok=True)
    for ckpt in checkpoints:
        tmp = directory / f".checkpoint_{ckpt.index}.tmp"
        save_file({k: np.ascontiguousarray(v) for k, v in ckpt.weights.items()}, str(tmp))
        os.replace(tmp, directory / f"checkpoint_{ckpt.index}.safetensors")
    info = {
        "schema_version": 1,
        "task": task,
        "architecture": f"MLP obs→{HIDDEN}→{HIDDEN}→action, ReLU, tanh output; log_std",
        "checkpoints": [
            {"index": c.index, "steps": c.steps, "train_loss": c.train_loss, "val_loss": c.val_loss}
            for c in checkpoints
        ],
    }
    tmp = directory / ".checkpoints.json.tmp"
    tmp.write_text(json.dumps(info, indent=1))
    os.replace(tmp, directory / "checkpoints.json")

"""Implicit Q-Learning (Kostrikov, Nair & Levine 2021) with a BC-initialised Gaussian actor.

IQL never queries actions outside the data: V(s) is fitted as an upper expectile τ of
Q(s, a) over the data's actions (L₂^τ(u) = |τ − 1(u < 0)| u²), twin Q networks regress
r + γ V(s′), their Polyak-averaged targets give the advantage A = min Q̄(s, a) − V(s), and
the policy is extracted by advantage-weighted regression: maximise exp(β·A) log π(a | s),
the weight clipped at 100. The actor here is a `GaussianPolicy` initialised from the BC
reference; an optional penalty `kl_beta`·KL(π ‖ π_ref) keeps it near the reference
(0 gives IQL as the literature's baseline).

Rewards are scaled, as in the paper, so that the episode returns span the episode length
(1000 / range for its 1000-step tasks) unless a scale is given. A `done` transition ends in
an absorbing state that keeps paying `absorbing_reward` (see `robopref.policy.transitions`),
so its target is r + γ·r_abs/(1 − γ) instead of r + γ V(s′).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from copy import deepcopy
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from robopref.errors import InputError
from robopref.policy.config_checks import is_finite, is_int
from robopref.policy.gaussian import GaussianPolicy
from robopref.policy.transitions import Transitions
from robopref.progress import ProgressCallback, no_progress

MAX_WEIGHT = 100.0
"""Clip of the advantage weight exp(β·A) (the paper's)."""


@dataclass(frozen=True, kw_only=True)
class IQLConfig:
    """One IQL run."""

    steps: int = 5000
    """Gradient steps (each updates V, both Q, the targets and the actor)."""
    batch: int = 256
    """Transitions per minibatch."""
    lr_q: float = 3e-4
    """Adam learning rate of the Q networks."""
    lr_v: float = 3e-4
    """Adam learning rate of V."""
    lr_actor: float = 1e-5
    """Adam learning rate of the actor, low because it starts at the BC reference: on a
    40-trajectory reach-v3 pool (BC at 67.5% success) 3000 steps reached 52.5% at 1e-5 and
    45% at 1e-4 (40 episodes each)."""
    gamma: float = 0.99
    """Discount."""
    expectile: float = 0.7
    """τ of the value expectile, in [0.5, 1): 0.5 is SARSA's mean, → 1 the max over data."""
    temperature: float = 3.0
    """β of the advantage weight exp(β·A)."""
    polyak: float = 0.005
    """Target network update rate: Q̄ ← (1 − ρ) Q̄ + ρ Q."""
    kl_beta: float = 0.0
    """Weight of KL(π ‖ π_ref) in the actor loss (0: plain IQL). Under the BC reference's small
    σ the KL of any moved policy is in the thousands (3,000–9,000 nats per state measured on
    reach-v3), so weights in the usual 0.05–0.1 are not comparable to a KL between broad
    policies."""
    actor_warmup: int = 1000
    """Steps that fit V and Q alone before the actor trains: the actor starts at a good BC
    policy, and the advantages of a still-random critic would only pull it towards the
    average data action (0 trains all three from the first step, as the paper does; on the
    pool above, at lr_actor 1e-4: 27.5% success with 0, 45% with 1000)."""
    hidden: int = 256
    """Width of the two hidden layers of the Q and V networks."""
    reward_scale: float | None = None
    """Multiplies the rewards; None: the longest episode's transitions / (max − min episode
    return), the paper's normalisation (1 when every return is equal)."""
    seed: int = 0
    """Seed of initialisation and minibatch order."""
    log_every: int = 100
    """Steps per logged interval (losses averaged over it)."""

    def __post_init__(self) -> None:
        """Raises InputError("IQLConfig", field, message) for a value out of range."""
        for name in ("steps", "batch", "hidden", "log_every"):
            value = getattr(self, name)
            if not is_int(value) or value < 1:
                _bad(name, f"must be a positive integer, got {value!r}")
        warmup = self.actor_warmup
        if not is_int(warmup) or warmup < 0:
            _bad("actor_warmup", f"must be an integer ≥ 0, got {warmup!r}")
        for name in ("lr_q", "lr_v", "lr_actor", "temperature"):
            if not is_finite(getattr(self, name)) or getattr(self, name) <= 0:
                _bad(name, f"must be a positive number, got {getattr(self, name)!r}")
        if not (is_finite(self.gamma) and 0 <= self.gamma < 1):
            _bad("gamma", f"must lie in [0, 1), got {self.gamma!r}")
        if not (is_finite(self.expectile) and 0.5 <= self.expectile < 1):
            _bad("expectile", f"must lie in [0.5, 1), got {self.expectile!r}")
        if not (is_finite(self.polyak) and 0 < self.polyak <= 1):
            _bad("polyak", f"must lie in (0, 1], got {self.polyak!r}")
        if not (is_finite(self.kl_beta) and self.kl_beta >= 0):
            _bad("kl_beta", f"must be a number ≥ 0, got {self.kl_beta!r}")
        if self.reward_scale is not None and not (
            is_finite(self.reward_scale) and self.reward_scale > 0
        ):
            _bad("reward_scale", f"must be a positive number or None, got {self.reward_scale!r}")
        if not is_int(self.seed):
            _bad("seed", f"must be an integer, got {self.seed!r}")


def _bad(name: str, message: str) -> None:
    raise InputError("IQLConfig", name, message)


@dataclass(frozen=True, kw_only=True)
class IQLStats:
    """Means over one logged interval of steps."""

    step: int
    """Steps done at the end of the interval."""
    q_loss: float
    """MSE of each Q against its target (the two summed)."""
    v_loss: float
    """Expectile loss of V."""
    actor_loss: float
    """−exp(β·A) log π(a | s), plus the KL term when `kl_beta` > 0 (logged, not descended,
    during `actor_warmup`)."""
    kl: float
    """KL(π ‖ π_ref) on the minibatch states."""
    weight: float
    """Mean clipped advantage weight."""


@dataclass(frozen=True, kw_only=True)
class IQLResult:
    """What `train_iql` returns."""

    policy: GaussianPolicy
    """The trained actor (gradients on; `weights()` for rollouts)."""
    critic: IQLCritic
    """The fitted V and (target) Q networks, for inspection."""
    history: tuple[IQLStats, ...]
    """One entry per logged interval."""
    kl: float
    """Mean KL(π ‖ π_ref) over every state of the transitions, after training."""
    reward_scale: float
    """The factor the rewards were multiplied by."""


def _mlp(n_in: int, hidden: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(n_in, hidden),
        nn.ReLU(),
        nn.Linear(hidden, hidden),
        nn.ReLU(),
        nn.Linear(hidden, 1),
    )


class IQLCritic(nn.Module):
    """V(s) and twin Q(s, a) on normalised states (the data's mean and std), with targets.

    Args:
        obs_dim: Width of a state.
        action_dim: Width of an action.
        hidden: Width of the hidden layers.
        obs_mean: (obs_dim,) state mean used for normalisation.
        obs_std: (obs_dim,) state std (floored) used for normalisation.
    """

    obs_mean: torch.Tensor
    obs_std: torch.Tensor

    def __init__(
        self, obs_dim: int, action_dim: int, hidden: int, obs_mean: np.ndarray, obs_std: np.ndarray
    ) -> None:

        super().__init__()
        self.register_buffer("obs_mean", torch.as_tensor(obs_mean, dtype=torch.float32))
        self.register_buffer("obs_std", torch.as_tensor(obs_std, dtype=torch.float32))
        self.v_net = _mlp(obs_dim, hidden)
        self.q1 = _mlp(obs_dim + action_dim, hidden)
        self.q2 = _mlp(obs_dim + action_dim, hidden)
        self.q1_target = deepcopy(self.q1).requires_grad_(False)
        self.q2_target = deepcopy(self.q2).requires_grad_(False)

    def _norm(self, obs: torch.Tensor) -> torch.Tensor:
        return (obs - self.obs_mean) / self.obs_std

    def v(self, obs: torch.Tensor) -> torch.Tensor:
        """V(s) per row (B,)."""
        out: torch.Tensor = self.v_net(self._norm(obs)).squeeze(-1)
        return out

    def qs(self, obs: torch.Tensor, action: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(Q₁(s, a), Q₂(s, a)) per row, the trained networks."""
        x = torch.cat([self._norm(obs), action], dim=-1)
        return self.q1(x).squeeze(-1), self.q2(x).squeeze(-1)

    def q(self, obs: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        """min(Q̄₁, Q̄₂)(s, a) per row (B,): the target networks, as the advantage uses."""
        x = torch.cat([self._norm(obs), action], dim=-1)
        return torch.minimum(self.q1_target(x), self.q2_target(x)).squeeze(-1)

    def update_targets(self, rate: float) -> None:
        """Polyak step: target ← (1 − rate)·target + rate·online."""
        with torch.no_grad():
            for online, target in ((self.q1, self.q1_target), (self.q2, self.q2_target)):
                for p, p_target in zip(online.parameters(), target.parameters(), strict=True):
                    p_target.mul_(1.0 - rate).add_(p, alpha=rate)


def expectile_loss(diff: torch.Tensor, expectile: float) -> torch.Tensor:
    """Mean of |τ − 1(u < 0)|·u² over `diff` u = Q − V."""
    weight = (expectile - (diff < 0).float()).abs()
    return (weight * diff**2).mean()


def train_iql(
    transitions: Transitions,
    reference: GaussianPolicy,
    config: IQLConfig | None = None,
    *,
    progress: ProgressCallback = no_progress,
) -> IQLResult:
    """Train IQL on `transitions`, the actor starting at `reference`.

    Args:
        transitions: The data (`robopref.policy.transitions.build_transitions`).
        reference: The BC reference policy; it is copied, never changed.
        config: The run; None takes the defaults.
        progress: Called as (steps done, steps) after each logged interval.

    Returns:
        The trained actor, the critic, the loss history and the KL to the reference.

    Raises:
        InputError: Empty transitions, or widths that differ from the reference's.
    """
    config = config or IQLConfig()
    _check_widths(transitions, reference)
    scale = config.reward_scale or _auto_scale(transitions)
    with one_torch_thread():
        gen = torch.Generator().manual_seed(config.seed)
        torch.manual_seed(config.seed)
        anchor = reference.frozen_copy()
        actor = GaussianPolicy(reference.weights())
        data = _tensors(transitions, scale)
        critic = IQLCritic(
            transitions.obs_dim,
            transitions.action_dim,
            config.hidden,
            transitions.obs.mean(0),
            np.maximum(transitions.obs.std(0), 1e-3),
        )
        optimisers = (
            torch.optim.Adam(critic.v_net.parameters(), config.lr_v),
            torch.optim.Adam([*critic.q1.parameters(), *critic.q2.parameters()], config.lr_q),
            torch.optim.Adam(actor.parameters(), config.lr_actor),
        )
        history: list[IQLStats] = []
        sums, count = np.zeros(5), 0
        progress(0, config.steps)
        for step in range(1, config.steps + 1):
            idx = torch.randint(
                0, len(transitions), (min(config.batch, len(transitions)),), generator=gen
            )
            batch = [t[idx] for t in data]
            train_actor = step > config.actor_warmup
            sums += _update(critic, actor, anchor, batch, optimisers, config, train_actor)
            count += 1
            if step % config.log_every == 0 or step == config.steps:
                q_m, v_m, a_m, kl_m, w_m = (float(x) for x in sums / count)
                history.append(
                    IQLStats(step=step, q_loss=q_m, v_loss=v_m, actor_loss=a_m, kl=kl_m, weight=w_m)
                )
                sums[:], count = 0.0, 0
                progress(step, config.steps)
        with torch.no_grad():
            mean_kl = float(actor.kl_to(anchor, data[0]).mean())
    return IQLResult(
        policy=actor, critic=critic, history=tuple(history), kl=mean_kl, reward_scale=scale
    )


def _update(
    critic: IQLCritic,
    actor: GaussianPolicy,
    anchor: GaussianPolicy,
    batch: list[torch.Tensor],
    optimisers: tuple[torch.optim.Optimizer, ...],
    config: IQLConfig,
    train_actor: bool,
) -> list[float]:
    """One IQL step on a minibatch: V, then both Q and their targets, then the actor.

    The actor's loss is computed (for the log) but not descended unless `train_actor`.

    Returns:
        q_loss, v_loss, actor_loss, KL to the anchor, mean advantage weight.
    """
    obs, act, rew, nxt, done, r_abs = batch
    opt_v, opt_q, opt_actor = optimisers
    # V: the expectile of the target Q over the data's actions
    with torch.no_grad():
        q_target = critic.q(obs, act)
    v = critic.v(obs)
    v_loss = expectile_loss(q_target - v, config.expectile)
    _descend(opt_v, v_loss)
    # Q: r + γ V(s′), or the absorbing state's value γ·r_abs/(1 − γ) after a done transition
    with torch.no_grad():
        absorbing = config.gamma / (1.0 - config.gamma) * r_abs
        target = rew + torch.where(done, absorbing, config.gamma * critic.v(nxt))
    q1, q2 = critic.qs(obs, act)
    q_loss = ((q1 - target) ** 2).mean() + ((q2 - target) ** 2).mean()
    _descend(opt_q, q_loss)
    critic.update_targets(config.polyak)
    # actor: advantage-weighted regression, optionally KL-anchored
    with torch.no_grad():
        weight = torch.exp(config.temperature * (q_target - v.detach())).clamp(max=MAX_WEIGHT)
    kl = actor.kl_to(anchor, obs).mean()
    actor_loss = -(weight * actor.log_prob(obs, act)).mean()
    if config.kl_beta > 0:
        actor_loss = actor_loss + config.kl_beta * kl
    if train_actor:
        _descend(opt_actor, actor_loss)
    return [q_loss.item(), v_loss.item(), actor_loss.item(), kl.item(), weight.mean().item()]


def _descend(optimiser: torch.optim.Optimizer, loss: torch.Tensor) -> None:
    optimiser.zero_grad()
    loss.backward()  # type: ignore[no-untyped-call]
    optimiser.step()


def _check_widths(transitions: Transitions, reference: GaussianPolicy) -> None:
    if len(transitions) == 0:
        raise InputError("transitions", "obs", "no transitions to train on")
    obs_dim = int(reference.obs_mean.shape[0])
    if transitions.obs_dim != obs_dim:
        raise InputError(
            "transitions",
            "obs",
            f"width {transitions.obs_dim}, the reference policy's is {obs_dim}",
        )
    if transitions.action_dim != reference.action_dim:
        raise InputError(
            "transitions",
            "action",
            f"width {transitions.action_dim}, the reference policy's is {reference.action_dim}",
        )


def _auto_scale(transitions: Transitions) -> float:
    returns = transitions.episode_returns()
    spread = float(returns.max() - returns.min())
    longest = int(np.bincount(transitions.episode).max())
    return longest / spread if spread > 0 else 1.0


def _tensors(transitions: Transitions, scale: float) -> tuple[torch.Tensor, ...]:
    return (
        torch.from_numpy(transitions.obs),
        torch.from_numpy(transitions.action),
        torch.from_numpy(transitions.reward * np.float32(scale)),
        torch.from_numpy(transitions.next_obs),
        torch.from_numpy(transitions.done),
        torch.from_numpy(transitions.absorbing_reward * np.float32(scale)),
    )


@contextmanager
def one_torch_thread() -> Iterator[None]:
    """One thread (deterministic, polite on a shared machine), denormals flushed; restored."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    denormals = torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        if denormals:
            torch.set_flush_denormal(False)


__all__ = [
    "IQLConfig",
    "IQLCritic",
    "IQLResult",
    "IQLStats",
    "expectile_loss",
    "one_torch_thread",
    "train_iql",
]

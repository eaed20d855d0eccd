"""Online PPO with a KL penalty to the BC reference, on TorchRL (the route for users with GPUs).

The actor starts as the reference (the BC mean network and its state-independent σ) and
samples a ~ N(μ(s), σ²); the critic is a fresh MLP on the reference's normalised
observations. One Meta-World env runs in this process (`robopref.policy.ppo_env`), on the
CPU; with `device="cuda"` the actor, critic, loss and batches live on the GPU. Each
collected batch's reward is reshaped before GAE by `KLPenaltyReward` (RLHF's KL-in-reward):

    r_t = task_reward(s_t, a_t, s_t+1) − β · log(π(a_t | s_t) / π_ref(a_t | s_t))

for the policy that collected the batch; the log-ratio's mean over a_t ~ π is
KL(π ‖ π_ref)(s_t), whose exact value the statistics report. The task reward is the simulator's (the
oracle) or a per-step callable (a learned reward). TorchRL's own `KLRewardTransform` lives
in `torchrl.envs.llm` and reads the token log-probabilities of a language model wrapper, so
it does not apply to a continuous actor; `KLPenaltyReward` is a TorchRL `Transform` doing
its job on a collected batch. ClipPPOLoss (clip 0.05–0.1, seed 001), GAE and the Collector
are TorchRL's. Two guards keep a BC start from collapsing: the reference's σ is floored
(`min_std`, for the actor and the anchor alike) and the first batch trains the critic only
(`critic_warmup`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch
from tensordict import TensorDictBase  # type: ignore[import-untyped]
from tensordict.nn import TensorDictModule  # type: ignore[import-untyped]
from torch import nn
from torchrl.collectors import Collector  # type: ignore[import-untyped]
from torchrl.envs import Transform  # type: ignore[import-untyped]
from torchrl.modules import (  # type: ignore[import-untyped]
    IndependentNormal,
    ProbabilisticActor,
    ValueOperator,
)
from torchrl.objectives import ClipPPOLoss  # type: ignore[import-untyped]
from torchrl.objectives.value import GAE  # type: ignore[import-untyped]

from robopref.errors import InputError
from robopref.policy.gaussian import GaussianPolicy
from robopref.policy.ppo_env import OBS_KEY, MetaWorldEnv
from robopref.progress import ProgressCallback, no_progress

StepReward = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]
"""A per-step task reward: (obs (B, D), action (B, A), next obs (B, D)) → (B,)."""

CRITIC_HIDDEN = 128
"""Width of the critic's two hidden layers."""
ENV_REWARD = ("next", "env_reward")
TASK_REWARD = ("next", "task_reward")
KL_KEY = ("next", "kl_ref")
LOG_RATIO = ("next", "log_ratio")
REWARD = ("next", "reward")


@dataclass(frozen=True, kw_only=True)
class PPOConfig:
    """Settings of one PPO run."""

    frames: int = 240_000
    """Environment steps in all."""
    frames_per_batch: int = 2_400
    """Steps collected per batch (20 episodes of 120)."""
    epochs: int = 10
    """Passes of PPO updates over each batch."""
    minibatch: int = 240
    """Steps per gradient step."""
    lr: float = 3e-5
    """Adam learning rate of the actor (small: a BC start clips most ratios at 3e-4)."""
    critic_lr: float = 3e-4
    """Adam learning rate of the critic."""
    critic_warmup: int = 1
    """First batches whose updates train the critic only (a fresh critic's advantages are
    noise that would push the actor off the reference)."""
    clip_epsilon: float = 0.1
    """PPO ratio clip (seed 001: 0.05–0.1 for a BC-initialised robot policy)."""
    gamma: float = 0.99
    """Discount."""
    gae_lambda: float = 0.95
    """GAE λ."""
    kl_beta: float = 0.05
    """Weight β of the per-step KL estimate log(π / π_ref)(a_t | s_t) taken off the reward."""
    entropy_coef: float = 0.0
    """Entropy bonus weight (0: none; the KL anchor already keeps σ near the reference's)."""
    min_std: float = 0.05
    """Floor of the reference's σ, for the actor's start and the anchor alike (0: as saved).
    BC on a few demos fits them to σ ≈ 1e-3, where PPO's ratios and the KL blow up."""
    max_grad_norm: float = 1.0
    """Gradient norm clip (actor and critic apart)."""
    max_steps: int = 120
    """Episode length (the pool's)."""
    device: Literal["cpu", "cuda"] = "cpu"
    """Where the actor, critic and updates run (the env is always on the CPU)."""
    seed: int = 0
    """Initialisation, sampling, minibatch order and the placement stream."""

    def __post_init__(self) -> None:
        if self.critic_warmup < 0:
            raise InputError(
                "PPOConfig", "critic_warmup", f"must be >= 0, got {self.critic_warmup}"
            )
        for name in ("frames", "frames_per_batch", "epochs", "minibatch", "max_steps"):
            if getattr(self, name) < 1:
                raise InputError("PPOConfig", name, f"must be >= 1, got {getattr(self, name)}")
        if self.frames % self.frames_per_batch:
            raise InputError(
                "PPOConfig",
                "frames",
                f"must be a multiple of frames_per_batch ({self.frames_per_batch})",
            )
        if self.minibatch > self.frames_per_batch:
            raise InputError(
                "PPOConfig", "minibatch", f"must be <= frames_per_batch ({self.frames_per_batch})"
            )
        for name in ("lr", "critic_lr", "clip_epsilon", "max_grad_norm"):
            if not getattr(self, name) > 0:
                raise InputError("PPOConfig", name, f"must be > 0, got {getattr(self, name)}")
        if not self.clip_epsilon < 1:
            raise InputError("PPOConfig", "clip_epsilon", f"must be < 1, got {self.clip_epsilon}")
        for name in ("gamma", "gae_lambda"):
            if not 0 <= getattr(self, name) <= 1:
                raise InputError("PPOConfig", name, f"must be in [0, 1], got {getattr(self, name)}")
        for name in ("kl_beta", "entropy_coef", "min_std"):
            if not getattr(self, name) >= 0:
                raise InputError("PPOConfig", name, f"must be >= 0, got {getattr(self, name)}")
        if self.device not in ("cpu", "cuda"):
            raise InputError("PPOConfig", "device", f"'cpu' or 'cuda', got {self.device!r}")
        if self.device == "cuda" and not torch.cuda.is_available():
            raise InputError("PPOConfig", "device", "cuda asked but torch sees no CUDA device")


@dataclass(frozen=True)
class PPOBatchStats:
    """One collected batch and the updates made on it."""

    frames: int
    """Environment steps collected so far (this batch included)."""
    env_reward: float
    """Mean simulator reward per step."""
    task_reward: float
    """Mean reward being optimised per step, before the KL term (= env_reward for "env")."""
    kl: float
    """Mean KL(π ‖ π_ref) over the batch's states, for the policy that collected it."""
    kl_sample: float
    """Mean log(π / π_ref)(a_t | s_t) of the sampled actions: the estimate in the reward."""
    clip_fraction: float
    """Share of ratios clipped, averaged over the batch's gradient steps."""
    episodes: int
    """Episodes that ended in the batch."""
    success: float | None
    """Share of those episodes with a success at any step (None: none ended)."""


@dataclass(frozen=True)
class PPOResult:
    """The trained policy and how the run went."""

    weights: dict[str, np.ndarray]
    """The trained policy as BC checkpoint weights (`GaussianPolicy(weights)`)."""
    batches: list[PPOBatchStats]
    """Per batch, in order."""
    final_kl: float
    """Mean KL(π ‖ π_ref) of the trained policy over the last batch's states."""
    seconds: float
    """Wall time of the run."""

    @property
    def frames_per_second(self) -> float:
        """Environment steps (with the updates) per wall-clock second."""
        return self.batches[-1].frames / self.seconds if self.seconds > 0 else 0.0


class KLPenaltyReward(Transform):  # type: ignore[misc]
    """Reward shaping of a batch: r_t = task reward − β · log(π(a_t | s_t) / π_ref(a_t | s_t)).

    The log-ratio of the sampled action is the per-step KL estimate RLHF uses (and TorchRL's
    LLM `KLRewardTransform`): its mean over a_t ~ π is KL(π ‖ π_ref)(s_t), and, unlike the
    exact KL of the state, it depends on the action, so the policy gradient pulls π towards
    π_ref. Writes `("next", "env_reward")` (the simulator's, kept from the first
    application, so applying it again is harmless), `("next", "task_reward")`,
    `("next", "log_ratio")`, `("next", "kl_ref")` (the exact KL of the state, for
    reporting) and the shaped `("next", "reward")`. It works on whole batches (`transform(batch)`,
    e.g. as a collector's `postproc`) before any update on them, not inside an env.

    Args:
        policy: The policy that collected the batch (its weights as they were then).
        reference: The KL anchor.
        beta: Weight β.
        step_reward: Task reward per step; None keeps the simulator's.
    """

    policy: GaussianPolicy
    reference: GaussianPolicy

    def __init__(
        self,
        policy: GaussianPolicy,
        reference: GaussianPolicy,
        *,
        beta: float,
        step_reward: StepReward | None = None,
    ) -> None:
        super().__init__(
            in_keys=[REWARD, OBS_KEY, "action"],
            out_keys=[REWARD, ENV_REWARD, TASK_REWARD, LOG_RATIO, KL_KEY],
        )
        # Plain attributes, not submodules: moving the transform must not move the policies.
        self.__dict__["policy"] = policy
        self.__dict__["reference"] = reference
        self.beta = float(beta)
        self.step_reward = step_reward

    def forward(self, tensordict: TensorDictBase) -> TensorDictBase:
        """Shape the reward of a batch (B..., with "observation", "action", "next")."""
        env_reward = tensordict.get(ENV_REWARD, None)
        if env_reward is None:
            env_reward = tensordict.get(REWARD)
            tensordict.set(ENV_REWARD, env_reward)
        device = self.policy.log_std.device
        obs = tensordict.get(OBS_KEY).to(device)
        action = tensordict.get("action").to(device)
        with torch.no_grad():
            log_ratio = self.policy.log_prob(obs, action) - self.reference.log_prob(obs, action)
            kl = self.policy.kl_to(self.reference, obs)
            if self.step_reward is None:
                task = env_reward.to(device)
            else:
                next_obs = tensordict.get(("next", OBS_KEY)).to(device)
                task = self.step_reward(obs, action, next_obs).reshape(env_reward.shape)
        log_ratio = log_ratio.reshape(env_reward.shape)
        out = env_reward.device
        tensordict.set(TASK_REWARD, task.to(out))
        tensordict.set(LOG_RATIO, log_ratio.to(out))
        tensordict.set(KL_KEY, kl.reshape(env_reward.shape).to(out))
        tensordict.set(REWARD, (task - self.beta * log_ratio).to(out))
        return tensordict

    def _step(self, tensordict: TensorDictBase, next_tensordict: TensorDictBase) -> Any:
        raise NotImplementedError("KLPenaltyReward shapes collected batches, not env steps")


class _LocScale(nn.Module):
    """(μ(s), σ) of a GaussianPolicy, σ broadcast to μ's shape (the actor's parameters)."""

    def __init__(self, policy: GaussianPolicy) -> None:
        super().__init__()
        self.policy = policy

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean = self.policy.mean(obs)
        return mean, self.policy.std().expand_as(mean)


class _Critic(nn.Module):
    """V(s): an MLP on observations normalised as the reference normalises them."""

    obs_mean: torch.Tensor
    obs_std: torch.Tensor

    def __init__(self, obs_mean: torch.Tensor, obs_std: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("obs_mean", obs_mean.detach().clone())
        self.register_buffer("obs_std", obs_std.detach().clone())
        self.net = nn.Sequential(
            nn.Linear(int(obs_mean.shape[0]), CRITIC_HIDDEN),
            nn.Tanh(),
            nn.Linear(CRITIC_HIDDEN, CRITIC_HIDDEN),
            nn.Tanh(),
            nn.Linear(CRITIC_HIDDEN, 1),
        )

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.net((obs - self.obs_mean) / self.obs_std)
        return out


def make_actor(policy: GaussianPolicy) -> Any:
    """A TorchRL ProbabilisticActor sampling N(μ(s), σ²) whose parameters are `policy`'s."""
    module = TensorDictModule(_LocScale(policy), in_keys=[OBS_KEY], out_keys=["loc", "scale"])
    return ProbabilisticActor(
        module,
        in_keys=["loc", "scale"],
        distribution_class=IndependentNormal,
        return_log_prob=True,
    )


def train_ppo(
    task: str,
    reference: GaussianPolicy,
    *,
    reward: Literal["env"] | StepReward = "env",
    config: PPOConfig | None = None,
    progress: ProgressCallback = no_progress,
) -> PPOResult:
    """Fine-tune a copy of `reference` online with PPO and a KL penalty to it.

    Args:
        task: Meta-World env name; its env is made (or reused) in this process.
        reference: The BC policy: the actor's start and the KL anchor (not changed).
        reward: "env" for the simulator's reward, or a per-step task reward (`StepReward`).
        config: Settings; defaults to PPOConfig().
        progress: Called as (frames done, frames) after each batch.

    Returns:
        The trained weights and per-batch statistics.

    Raises:
        InputError: A reward that is neither "env" nor callable, or an observation width the
            reference does not read.
    """
    config = config or PPOConfig()
    if reward != "env" and not callable(reward):
        raise InputError("PPOConfig", "reward", f"'env' or a per-step callable, got {reward!r}")
    device = torch.device(config.device)
    threads = torch.get_num_threads()
    if device.type == "cpu":
        torch.set_num_threads(1)  # tiny networks: one thread is fastest and polite
    try:
        return _train(task, reference, None if reward == "env" else reward, config, progress)
    finally:
        torch.set_num_threads(threads)


def _train(
    task: str,
    reference: GaussianPolicy,
    step_reward: StepReward | None,
    config: PPOConfig,
    progress: ProgressCallback,
) -> PPOResult:
    started = time.perf_counter()
    device = torch.device(config.device)
    torch.manual_seed(config.seed)
    env = MetaWorldEnv(task, seed=config.seed, max_steps=config.max_steps)
    obs_dim = int(env.observation_spec[OBS_KEY].shape[-1])
    if int(reference.obs_mean.shape[0]) != obs_dim:
        raise InputError(
            "PPOConfig",
            "reference",
            f"reads {reference.obs_mean.shape[0]} values; {task} has {obs_dim}",
        )
    weights = (
        reference.with_min_std(config.min_std) if config.min_std > 0 else reference
    ).weights()
    anchor = GaussianPolicy(weights).requires_grad_(False).eval().to(device)
    policy = GaussianPolicy(weights).to(device)
    actor = make_actor(policy)
    critic = ValueOperator(_Critic(anchor.obs_mean, anchor.obs_std), in_keys=[OBS_KEY]).to(device)
    shaping = KLPenaltyReward(policy, anchor, beta=config.kl_beta, step_reward=step_reward)
    gae = GAE(
        gamma=config.gamma,
        lmbda=config.gae_lambda,
        value_network=critic,
        average_gae=False,
        device=device,
    )
    loss_module = ClipPPOLoss(
        actor,
        critic,
        clip_epsilon=config.clip_epsilon,
        entropy_bonus=config.entropy_coef > 0,
        entropy_coeff=config.entropy_coef,
        critic_coeff=1.0,
        loss_critic_type="l2",
        normalize_advantage=True,
        device=device,
    )
    groups = [list(policy.parameters()), list(critic.parameters())]
    optimiser = torch.optim.Adam(
        [{"params": groups[0], "lr": config.lr}, {"params": groups[1], "lr": config.critic_lr}]
    )
    gen = torch.Generator(device=device).manual_seed(config.seed)
    collector = Collector(
        env,
        actor,
        frames_per_batch=config.frames_per_batch,
        total_frames=config.frames,
        policy_device=device,
        env_device="cpu",
        storing_device=device,
        auto_register_policy_transforms=False,  # a feed-forward actor needs no InitTracker
    )
    stats: list[PPOBatchStats] = []
    frames = 0
    last: Any = None
    try:
        for batch in collector:
            batch = shaping(batch)
            with torch.no_grad():
                gae(batch)
            flat = batch.reshape(-1)
            actor_too = len(stats) >= config.critic_warmup
            clips = _update(flat, loss_module, optimiser, groups, gen, config, actor=actor_too)
            frames += int(flat.numel())
            stats.append(_stats(flat, frames, clips))
            last = flat
            progress(frames, config.frames)
    finally:
        collector.shutdown()
    with torch.no_grad():
        final_kl = float(policy.kl_to(anchor, last.get(OBS_KEY)).mean())
    return PPOResult(
        weights=policy.weights(),
        batches=stats,
        final_kl=final_kl,
        seconds=time.perf_counter() - started,
    )


def _update(
    flat: TensorDictBase,
    loss_module: Any,
    optimiser: torch.optim.Optimizer,
    groups: list[list[nn.Parameter]],
    gen: torch.Generator,
    config: PPOConfig,
    *,
    actor: bool,
) -> torch.Tensor:
    """`epochs` passes of minibatch steps over a batch (critic only unless `actor`); clip shares."""
    n = int(flat.numel())
    clips: list[torch.Tensor] = []
    for _ in range(config.epochs):
        order = torch.randperm(n, generator=gen, device=gen.device)
        for idx in torch.split(order, config.minibatch):
            out = loss_module(flat[idx])
            total = out["loss_critic"]
            if actor:
                total = total + out["loss_objective"]
                if config.entropy_coef > 0:
                    total = total + out["loss_entropy"]
            optimiser.zero_grad()
            total.backward()
            for group in groups:  # apart: the critic's large value errors must not mute the actor
                nn.utils.clip_grad_norm_(group, config.max_grad_norm)
            optimiser.step()
            clips.append(out["clip_fraction"].detach())
    return torch.stack(clips)


def _stats(flat: TensorDictBase, frames: int, clips: torch.Tensor) -> PPOBatchStats:
    ended = flat.get(("next", "done")).reshape(-1)
    succeeded = flat.get(("next", "succeeded")).reshape(-1)[ended]
    episodes = int(ended.sum())
    return PPOBatchStats(
        frames=frames,
        env_reward=float(flat.get(ENV_REWARD).mean()),
        task_reward=float(flat.get(TASK_REWARD).mean()),
        kl=float(flat.get(KL_KEY).mean()),
        kl_sample=float(flat.get(LOG_RATIO).mean()),
        clip_fraction=float(clips.mean()),
        episodes=episodes,
        success=float((succeeded > 0).float().mean()) if episodes else None,
    )

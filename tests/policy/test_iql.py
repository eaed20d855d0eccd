"""IQL on a one-step contextual bandit whose best action is known."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from robopref.errors import InputError
from robopref.policy.gaussian import GaussianPolicy
from robopref.policy.iql import IQLConfig, IQLResult, expectile_loss, train_iql
from robopref.policy.transitions import Transitions, build_transitions
from robopref.pool.trajectory import Trajectory
from robopref.sim.bc import LAYERS, LOG_STD, bc_network

FAST = IQLConfig(
    steps=600,
    batch=64,
    hidden=32,
    gamma=0.5,
    lr_q=1e-3,
    lr_v=1e-3,
    lr_actor=1e-3,
    actor_warmup=0,
    log_every=200,
)


def reference_policy(obs_dim: int = 39, action_dim: int = 4, std: float = 0.5) -> GaussianPolicy:
    """A reference whose mean is exactly 0 everywhere (zeroed last layer), σ = `std`."""
    torch.manual_seed(0)
    net = bc_network(obs_dim, action_dim)
    weights = {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}
    weights[f"{LAYERS[-1]}.weight"][:] = 0.0
    weights[f"{LAYERS[-1]}.bias"][:] = 0.0
    weights["obs_mean"] = np.zeros(obs_dim, np.float32)
    weights["obs_std"] = np.ones(obs_dim, np.float32)
    weights[LOG_STD] = np.full(action_dim, math.log(std), np.float32)
    return GaussianPolicy(weights)


def bandit(n: int = 64, seed: int = 0) -> Transitions:
    """One-step episodes: state zeros but feature 3 = 1; action dim 0 = ±0.5 (+ noise);
    reward 1 for +0.5, 0 for −0.5; each episode succeeds and ends (absorbing)."""
    rng = np.random.default_rng(seed)
    trajectories = []
    for i in range(n):
        sign = 1.0 if i % 2 == 0 else -1.0
        state = np.zeros((2, 39), np.float32)
        state[:, 3] = 1.0
        action = (0.1 * rng.standard_normal((2, 4))).astype(np.float32)
        action[0, 0] = 0.5 * sign + 0.05 * rng.standard_normal()
        trajectories.append(
            Trajectory(
                trajectory_id=f"t{i}",
                task="reach",
                env_id="reach-v3",
                source="random",
                fps=10.0,
                state=state,
                action=action,
                gripper=np.ones(2, np.float32),
                ee_pos=np.zeros((2, 3), np.float32),
                env_reward=np.array([0.0, 1.0 if sign > 0 else 0.0], np.float32),
                success=True,
                success_step=1,
            )
        )
    return build_transitions(trajectories)


Trained = tuple[Transitions, GaussianPolicy, IQLResult]


@pytest.fixture(scope="module")
def trained() -> Trained:
    data, ref = bandit(), reference_policy()
    return data, ref, train_iql(data, ref, FAST)


def test_high_reward_action_gains_log_prob_over_the_reference(trained: Trained) -> None:
    data, ref, result = trained
    obs = torch.from_numpy(data.obs[:1])
    good = torch.tensor([[0.5, 0.0, 0.0, 0.0]])
    bad = torch.tensor([[-0.5, 0.0, 0.0, 0.0]])
    with torch.no_grad():
        gain_good = float(result.policy.log_prob(obs, good) - ref.log_prob(obs, good))
        gain_bad = float(result.policy.log_prob(obs, bad) - ref.log_prob(obs, bad))
        mean = result.policy.mean(obs)[0]
    assert gain_good > 0.5 > gain_bad
    assert float(mean[0]) > 0.25
    assert result.kl > 0.1
    with torch.no_grad():  # the reference is copied, never trained
        assert float(ref.mean(obs).abs().max()) == 0.0


def test_expectile_value_sits_above_the_mean_q_of_the_data(trained: Trained) -> None:
    data, _, result = trained
    obs, act = torch.from_numpy(data.obs), torch.from_numpy(data.action)
    with torch.no_grad():
        v = float(result.critic.v(obs[:1]))
        q = result.critic.q(obs, act).numpy()
    # targets: r/(1 − γ) = 2 for the good action, 0 for the bad; τ = 0.7 expectile → 1.4
    assert q[data.action[:, 0] > 0].mean() == pytest.approx(2.0, abs=0.3)
    assert q[data.action[:, 0] < 0].mean() == pytest.approx(0.0, abs=0.3)
    assert v > q.mean() + 0.2
    assert v == pytest.approx(1.4, abs=0.3)
    assert [s.step for s in result.history] == [200, 400, 600]
    assert result.history[-1].q_loss < result.history[0].q_loss


def test_kl_penalty_keeps_the_actor_closer_and_runs_are_deterministic() -> None:
    data, ref = bandit(16), reference_policy()
    short = replace(FAST, steps=150, log_every=50)
    torch.set_num_threads(2)
    free = train_iql(data, ref, short)
    assert torch.get_num_threads() == 2  # one thread inside, restored after
    torch.set_num_threads(1)
    anchored = train_iql(data, ref, replace(short, kl_beta=5.0))
    again = train_iql(data, ref, short)
    assert anchored.kl < 0.5 * free.kl
    warm = train_iql(data, ref, replace(short, actor_warmup=short.steps))
    assert warm.kl == 0.0  # the critic trained, the actor not yet
    assert warm.history[-1].q_loss == free.history[-1].q_loss  # same critic either way
    for key, value in free.policy.weights().items():
        np.testing.assert_array_equal(value, again.policy.weights()[key])


def test_expectile_loss_weights_negative_errors_by_one_minus_tau() -> None:
    diff = torch.tensor([1.0, -1.0])
    assert float(expectile_loss(diff, 0.7)) == pytest.approx((0.7 + 0.3) / 2)
    assert float(expectile_loss(torch.tensor([-2.0]), 0.9)) == pytest.approx(0.1 * 4)


def test_bad_config_and_mismatched_widths_are_refused() -> None:
    with pytest.raises(InputError, match="expectile") as info:
        IQLConfig(expectile=0.3)
    assert info.value.path == "IQLConfig"
    with pytest.raises(InputError, match="gamma"):
        IQLConfig(gamma=1.0)
    with pytest.raises(InputError, match="steps"):
        IQLConfig(steps=0)
    with pytest.raises(InputError, match="kl_beta"):
        IQLConfig(kl_beta=-1.0)
    with pytest.raises(InputError, match="actor_warmup"):
        IQLConfig(actor_warmup=-1)
    with pytest.raises(InputError, match="reference policy's is 12") as info:
        train_iql(bandit(4), reference_policy(obs_dim=12), FAST)
    assert info.value.field == "obs"


@pytest.mark.sim
def test_iql_on_a_small_generated_pool(tmp_path: Path) -> None:
    """Env-reward IQL on a real state-only pool: experts' states are valued above randoms'."""
    from safetensors.numpy import load_file

    from robopref.pool.config import GenerateConfig
    from robopref.pool.generate import generate_pool
    from robopref.sim.bc import BCController

    config = GenerateConfig(
        tasks=("reach-v3",),
        experts=4,
        novices=2,
        checkpoints=2,
        per_checkpoint=1,
        scripted_failures=1,
        randoms=2,
        bc_demos=8,
        bc_steps=240,
        max_steps=60,
        frames=False,
        workers=1,
    )
    pool = generate_pool(config, tmp_path / "pool")
    trajectories = list(pool)
    data = build_transitions(trajectories)
    assert len(data) == sum(t.n_steps - 1 for t in trajectories)
    assert data.done.sum() == sum(
        bool(t.success) and t.n_steps < config.max_steps for t in trajectories
    )
    ckpt = tmp_path / "pool" / "policies" / "bc-s0" / "reach-v3" / "checkpoint_2.safetensors"
    reference = GaussianPolicy(load_file(str(ckpt)))
    result = train_iql(data, reference, replace(FAST, gamma=0.9, steps=300, kl_beta=0.1))
    sources = np.array([t.source for t in trajectories])[data.episode]
    with torch.no_grad():
        v = result.critic.v(torch.from_numpy(data.obs)).numpy()
    assert v[sources == "expert"].mean() > v[sources == "random"].mean()
    assert np.isfinite(result.kl) and result.kl >= 0.0
    # the trained weights roll out in numpy exactly as the torch mean
    weights = result.policy.weights()
    controller = BCController(weights, name="iql")
    with torch.no_grad():
        mean = result.policy.mean(torch.from_numpy(data.obs[:5])).numpy()
    np.testing.assert_allclose(controller.mean(data.obs[:5]), mean, atol=1e-5)

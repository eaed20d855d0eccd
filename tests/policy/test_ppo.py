"""Online PPO with a KL penalty to the BC reference: a smoke run on the CPU (hundreds of frames)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from robopref.errors import InputError
from robopref.policy.gaussian import GaussianPolicy
from robopref.policy.ppo import KLPenaltyReward, PPOConfig, PPOResult, make_actor, train_ppo
from robopref.policy.ppo_env import MetaWorldEnv
from robopref.progress import ProgressCallback
from robopref.sim.bc import train_bc
from robopref.sim.controllers import ExpertController
from robopref.sim.episode import run_episode
from robopref.sim.workers import process_env

pytestmark = pytest.mark.sim

TASK = "reach-v3"
# No critic warm-up and a larger actor step than the defaults: at this size the KL penalty
# must have batches to act on (β=10 vs 0 held on seeds 0-3 so).
SMOKE = {
    "frames": 960,
    "frames_per_batch": 240,
    "epochs": 4,
    "minibatch": 60,
    "lr": 1e-4,
    "critic_warmup": 0,
    "seed": 0,
}


@pytest.fixture(scope="module")
def reference() -> GaussianPolicy:
    """A BC policy on three expert episodes (its σ ~ 1e-3: PPO floors it at `min_std`)."""
    env = process_env(TASK, max_steps=120, image_size=480, cameras=())
    episodes = []
    for seed in range(3):
        rec = run_episode(
            env,
            ExpertController(TASK),
            seed=100 + seed,
            max_steps=120,
            settle_steps=None,
            frames=False,
        )
        episodes.append((np.asarray(rec.obs), np.asarray(rec.action)))
    return GaussianPolicy(train_bc(episodes, checkpoints=1, steps=300, seed=0)[0].weights)


@pytest.fixture(scope="module")
def runs(reference: GaussianPolicy) -> dict[float, tuple[PPOResult, list[tuple[int, int]]]]:
    """The same smoke run without the KL penalty and with a strong one."""
    out = {}
    for beta in (0.0, 10.0):
        calls: list[tuple[int, int]] = []
        config = PPOConfig(kl_beta=beta, **SMOKE)  # type: ignore[arg-type]
        result = train_ppo(TASK, reference, config=config, progress=_recorder(calls))
        out[beta] = (result, calls)
    return out


def _recorder(calls: list[tuple[int, int]]) -> ProgressCallback:
    return lambda done, total: calls.append((done, total))


def _perturbed(reference: GaussianPolicy) -> GaussianPolicy:
    weights = reference.weights()
    weights["4.bias"] = weights["4.bias"] + np.float32(0.05)
    weights["log_std"] = np.full_like(weights["log_std"], np.log(0.08))
    return GaussianPolicy(weights)


def test_config_rejects_bad_values() -> None:
    bad = [
        {"clip_epsilon": 0.0},
        {"minibatch": 5000},
        {"gamma": 1.5},
        {"kl_beta": -0.1},
        {"device": "tpu"},
    ]
    for kwargs in bad:
        with pytest.raises(InputError) as err:
            PPOConfig(**kwargs)  # type: ignore[arg-type]
        assert err.value.path == "PPOConfig" and err.value.field == next(iter(kwargs))


def test_reward_must_be_env_or_callable(reference: GaussianPolicy) -> None:
    with pytest.raises(InputError, match="reward"):
        train_ppo(TASK, reference, reward="oracle")  # type: ignore[arg-type]


def test_penalty_on_a_collected_batch_is_env_reward_minus_beta_log_ratio(
    reference: GaussianPolicy,
) -> None:
    policy = _perturbed(reference)
    env = MetaWorldEnv(TASK, seed=7, max_steps=120)
    with torch.no_grad():
        batch = env.rollout(150, make_actor(policy), break_when_any_done=False)
    env_reward = batch.get(("next", "reward")).clone()
    shaped = KLPenaltyReward(policy, reference, beta=0.3)(batch.clone())

    obs, action = batch.get("observation"), batch.get("action")
    with torch.no_grad():
        log_ratio = (policy.log_prob(obs, action) - reference.log_prob(obs, action)).unsqueeze(-1)
        kl = policy.kl_to(reference, obs).unsqueeze(-1)
    assert torch.equal(shaped.get(("next", "env_reward")), env_reward)
    torch.testing.assert_close(shaped.get(("next", "reward")), env_reward - 0.3 * log_ratio)
    torch.testing.assert_close(shaped.get(("next", "kl_ref")), kl)
    assert float(log_ratio.abs().max()) > 0.1  # the two policies really differ
    # Applied again, it starts from the kept simulator reward, not the shaped one.
    again = KLPenaltyReward(policy, reference, beta=0.3)(shaped.clone())
    torch.testing.assert_close(again.get(("next", "reward")), shaped.get(("next", "reward")))
    # Against itself the penalty is exactly zero and the reward the simulator's.
    same = KLPenaltyReward(reference, reference.frozen_copy(), beta=0.3)(batch.clone())
    assert torch.equal(same.get(("next", "log_ratio")), torch.zeros_like(env_reward))
    assert torch.equal(same.get(("next", "reward")), env_reward)


def test_smoke_run_trains_the_actor_from_the_reference(
    reference: GaussianPolicy, runs: dict[float, tuple[PPOResult, list[tuple[int, int]]]]
) -> None:
    before = reference.weights()
    for result, calls in runs.values():
        assert [b.frames for b in result.batches] == [240, 480, 720, 960]
        assert calls == [(f, 960) for f in (240, 480, 720, 960)]
        first = result.batches[0]
        # The actor starts as the reference (σ floored alike): no KL in the first batch.
        assert first.kl == 0.0 and first.kl_sample == 0.0
        assert first.task_reward == first.env_reward
        later = [b.kl for b in result.batches[1:]]
        assert all(math.isfinite(k) and k > 0 for k in later)
        assert math.isfinite(result.final_kl) and result.final_kl > 0
        assert all(0.0 <= b.clip_fraction <= 1.0 for b in result.batches)
        assert all(b.episodes == 2 and b.success in (0.0, 0.5, 1.0) for b in result.batches)
        assert result.frames_per_second > 0
        changed = [
            k for k in ("0.weight", "4.bias") if not np.allclose(result.weights[k], before[k])
        ]
        assert changed == ["0.weight", "4.bias"]
        assert np.all(result.weights["log_std"] >= np.log(0.05) - 0.05)  # from the floor
    # The reference itself is untouched.
    for key, value in reference.weights().items():
        np.testing.assert_array_equal(value, before[key])


def test_kl_penalty_keeps_the_policy_closer_to_the_reference(
    runs: dict[float, tuple[PPOResult, list[tuple[int, int]]]],
) -> None:
    free, anchored = runs[0.0][0], runs[10.0][0]
    # The first batch carries no KL, so both runs make the same first updates...
    second = [(b.env_reward, b.kl, b.kl_sample) for b in (free.batches[1], anchored.batches[1])]
    assert second[0] == second[1]
    # ...after which the penalty holds the policy nearer the reference.
    assert anchored.final_kl < free.final_kl


def test_a_per_step_reward_replaces_the_simulators(reference: GaussianPolicy) -> None:
    seen: list[tuple[int, ...]] = []

    def hand_to_goal(obs: torch.Tensor, action: torch.Tensor, nxt: torch.Tensor) -> torch.Tensor:
        seen.append((*obs.shape, *action.shape, *nxt.shape))
        return -torch.linalg.vector_norm(nxt[:, :3] - nxt[:, -3:], dim=-1)

    config = PPOConfig(frames=240, frames_per_batch=240, epochs=1, minibatch=120)
    (batch,) = train_ppo(TASK, reference, reward=hand_to_goal, config=config).batches
    assert seen == [(240, 39, 240, 4, 240, 39)]
    assert batch.task_reward < 0 < batch.env_reward


def test_critic_warmup_leaves_the_actor_at_the_reference(reference: GaussianPolicy) -> None:
    config = PPOConfig(frames=480, frames_per_batch=240, epochs=1, minibatch=120, critic_warmup=2)
    result = train_ppo(TASK, reference, config=config)
    assert [(b.kl, b.kl_sample, b.clip_fraction) for b in result.batches] == [(0.0, 0.0, 0.0)] * 2
    floored = reference.weights()
    floored["log_std"] = np.maximum(floored["log_std"], np.float32(np.log(0.05)))
    for key, value in result.weights.items():
        np.testing.assert_allclose(value, floored[key], rtol=0, atol=1e-6)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_runs_on_cuda(reference: GaussianPolicy) -> None:
    config = PPOConfig(device="cuda", **SMOKE)  # type: ignore[arg-type]
    result = train_ppo(TASK, reference, config=config)
    assert result.batches[0].kl == 0.0 and result.batches[-1].kl > 0
    assert all(np.isfinite(v).all() for v in result.weights.values())

"""KL-anchored advantage-weighted fine-tuning on trajectories whose best actions are known."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from robopref.errors import InputError
from robopref.policy.finetune import FinetuneConfig, finetune, trajectory_weights
from robopref.policy.gaussian import GaussianPolicy
from robopref.pool.trajectory import ContactLog, Trajectory
from robopref.sim.bc import train_bc


def _traj(i: int, obs: np.ndarray, act: np.ndarray) -> Trajectory:
    t = len(obs)
    return Trajectory(
        trajectory_id=f"t{i:03d}",
        task="move",
        env_id="toy-v0",
        source="policy",
        fps=10.0,
        state=obs.astype(np.float32),
        action=act.astype(np.float32),
        gripper=np.zeros(t, np.float32),
        ee_pos=obs[:, :3].astype(np.float32),
        frames={},
        force=np.zeros(t, np.float32),
        clearance=np.full(t, 0.5, np.float32),
        goal_distance=np.zeros(t, np.float32),
        env_reward=np.zeros(t, np.float32),
        contacts=ContactLog.empty(),
        success=False,
        success_step=None,
        metadata={},
    )


@pytest.fixture(scope="module")
def setup() -> tuple[GaussianPolicy, list[Trajectory], np.ndarray]:
    """A reference trained on actions 0 in dim 0; data: +0.5 (score 1) or −0.5 (score 0)."""
    rng = np.random.default_rng(0)
    obs = [rng.normal(size=(20, 39)) for _ in range(8)]
    ref_weights = train_bc([(o, np.zeros((20, 4))) for o in obs], checkpoints=1, steps=300, seed=0)
    reference = GaussianPolicy(ref_weights[-1].weights)
    trajs, scores = [], []
    for i in range(40):
        sign = 1.0 if i % 2 == 0 else -1.0
        act = np.zeros((20, 4))
        act[:, 0] = 0.5 * sign
        trajs.append(_traj(i, rng.normal(size=(20, 39)), act))
        scores.append(1.0 if sign > 0 else 0.0)
    return reference, trajs, np.array(scores)


def _mean_dim0(policy: GaussianPolicy, trajs: list[Trajectory]) -> float:
    obs = torch.from_numpy(np.concatenate([t.state for t in trajs]))
    with torch.no_grad():
        return float(policy.mean(obs)[:, 0].mean())


def test_weights_follow_scores_and_filters_keep_the_top() -> None:
    config = FinetuneConfig(temperature=1.0, max_weight=5.0, filter_top=None)
    w = trajectory_weights(np.array([0.0, 1.0, 2.0, 100.0]), None, config)
    assert np.all(np.diff(w) >= 0) and w[-1] == 5.0
    groups = np.array([0, 0, 1, 1])
    top = trajectory_weights(np.array([3.0, 1.0, 0.0, 9.0]), groups, FinetuneConfig(filter_top=0.5))
    assert top.tolist() == [1.0, 0.0, 0.0, 1.0]


def test_finetuning_moves_toward_high_scored_actions(setup: tuple) -> None:
    reference, trajs, scores = setup
    start = _mean_dim0(reference, trajs)
    result = finetune(trajs, scores, reference, FinetuneConfig(steps=300, kl_beta=0.0, lr=1e-3))
    assert _mean_dim0(result.policy, trajs) > start + 0.2
    assert result.kl > 0
    flipped = finetune(
        trajs, 1 - scores, reference, FinetuneConfig(steps=300, kl_beta=0.0, lr=1e-3)
    )
    assert _mean_dim0(flipped.policy, trajs) < start - 0.2


def test_the_kl_anchor_holds_the_policy_near_the_reference(setup: tuple) -> None:
    reference, trajs, scores = setup
    free = finetune(trajs, scores, reference, FinetuneConfig(steps=300, kl_beta=0.0, lr=1e-3))
    held = finetune(trajs, scores, reference, FinetuneConfig(steps=300, kl_beta=50.0, lr=1e-3))
    assert held.kl < 0.5 * free.kl
    obs = torch.from_numpy(trajs[0].state)
    with torch.no_grad():
        assert float(reference.kl_to(reference.frozen_copy(), obs).abs().max()) < 1e-6
    np.testing.assert_array_equal(  # the reference itself is never trained
        reference.weights()["0.weight"], GaussianPolicy(reference.weights()).weights()["0.weight"]
    )


def test_bad_settings_and_inputs_are_refused(setup: tuple) -> None:
    reference, trajs, scores = setup
    with pytest.raises(InputError, match="filter_top"):
        FinetuneConfig(filter_top=0.0)
    with pytest.raises(InputError, match="kl_beta_final"):
        FinetuneConfig(kl_beta=0.0, kl_beta_final=0.01)
    with pytest.raises(InputError, match="scores"):
        finetune(trajs, scores[:-1], reference)
    assert FinetuneConfig(steps=11, kl_beta=0.02, kl_beta_final=0.001).beta(10) == pytest.approx(
        0.001
    )

"""Direct preference optimisation on pairs that prefer +0.5 over −0.5 in action dim 0."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch
from tests.policy.test_iql import reference_policy

from robopref.errors import InputError
from robopref.policy.dpo import DPOConfig, DPOResult, implicit_rewards, train_dpo
from robopref.policy.gaussian import GaussianPolicy
from robopref.pool.trajectory import Trajectory

FAST = DPOConfig(
    alpha=1.0,
    steps=150,
    batch=16,
    lr=1e-3,
    bc_weight=0.0,
    max_steps_per_segment=16,
    log_every=50,
)


def trajectory(tid: str, sign: float, rng: np.random.Generator) -> Trajectory:
    """A random-state episode whose actions are `sign`·0.5 in dim 0 (plus noise)."""
    n = int(rng.integers(10, 30))
    action = (0.1 * rng.standard_normal((n, 4))).astype(np.float32)
    action[:, 0] += 0.5 * sign
    return Trajectory(
        trajectory_id=tid,
        task="reach",
        env_id="reach-v3",
        source="random",
        fps=10.0,
        state=rng.standard_normal((n, 39)).astype(np.float32),
        action=action,
        gripper=np.ones(n, np.float32),
        ee_pos=np.zeros((n, 3), np.float32),
    )


def dataset(n: int, seed: int, prefix: str) -> tuple[pd.DataFrame, dict[str, Trajectory]]:
    """n good (+) and n bad (−) trajectories; n good-vs-bad pairs (sides shuffled), n/4 ties."""
    rng = np.random.default_rng(seed)
    good = [trajectory(f"{prefix}g{i}", 1.0, rng) for i in range(n)]
    bad = [trajectory(f"{prefix}b{i}", -1.0, rng) for i in range(n)]
    rows = []
    for i in range(n):
        g, b = good[i].trajectory_id, bad[(i * 7) % n].trajectory_id
        rows.append((g, b, 1.0) if i % 2 else (b, g, 0.0))
    rows += [(good[i].trajectory_id, good[i + 1].trajectory_id, 0.5) for i in range(0, n // 2, 2)]
    prefs = pd.DataFrame(rows, columns=["trajectory_a_id", "trajectory_b_id", "preference"])
    return prefs, {t.trajectory_id: t for t in good + bad}


@pytest.fixture(scope="module")
def train_set() -> tuple[pd.DataFrame, dict[str, Trajectory]]:
    return dataset(24, seed=0, prefix="train-")


@pytest.fixture(scope="module")
def trained(train_set: tuple[pd.DataFrame, dict[str, Trajectory]]) -> DPOResult:
    prefs, trajectories = train_set
    return train_dpo(prefs, trajectories, reference_policy(), FAST)


def _mean_dim0(policy: GaussianPolicy, trajectories: dict[str, Trajectory]) -> float:
    obs = torch.from_numpy(np.concatenate([t.state for t in trajectories.values()]))
    with torch.no_grad():
        return float(policy.mean(obs)[:, 0].mean())


def test_training_moves_the_mean_action_towards_the_preferred_side(
    trained: DPOResult, train_set: tuple[pd.DataFrame, dict[str, Trajectory]]
) -> None:
    _, trajectories = train_set
    assert _mean_dim0(reference_policy(), trajectories) == 0.0
    assert _mean_dim0(trained.policy, trajectories) > 0.1
    assert trained.accuracy == 1.0
    assert trained.history[-1].loss < trained.history[0].loss < np.log(2) + 0.05
    assert [s.step for s in trained.history] == [50, 100, 150]
    assert trained.kl > 0.01


def test_conservative_term_keeps_the_mean_near_the_preferred_actions(
    trained: DPOResult, train_set: tuple[pd.DataFrame, dict[str, Trajectory]]
) -> None:
    prefs, trajectories = train_set
    anchored = train_dpo(prefs, trajectories, reference_policy(), replace(FAST, bc_weight=1.0))
    assert _mean_dim0(trained.policy, trajectories) > 0.9  # pure DPO overshoots +0.5
    assert 0.3 < _mean_dim0(anchored.policy, trajectories) < 0.8
    assert anchored.accuracy == 1.0


def test_implicit_reward_orders_held_out_pairs(trained: DPOResult) -> None:
    prefs, held_out = dataset(12, seed=1, prefix="test-")
    rewards = implicit_rewards(trained.policy, reference_policy(), held_out, alpha=FAST.alpha)
    decided = prefs[prefs["preference"] != 0.5]
    margin = decided["trajectory_a_id"].map(rewards) - decided["trajectory_b_id"].map(rewards)
    correct = (margin > 0) == (decided["preference"] == 1.0)
    assert correct.all()
    assert implicit_rewards(reference_policy(), reference_policy(), held_out)["test-g0"] == 0.0


def test_kl_is_zero_at_step_zero_and_grows_with_weaker_anchoring(
    train_set: tuple[pd.DataFrame, dict[str, Trajectory]],
) -> None:
    prefs, trajectories = train_set
    untrained = train_dpo(prefs, trajectories, reference_policy(), replace(FAST, steps=0))
    assert untrained.kl == 0.0 and untrained.history == ()
    assert untrained.accuracy == 0.5  # every implicit reward is 0: each pair counts half
    short = replace(FAST, steps=100)
    strong = train_dpo(prefs, trajectories, reference_policy(), replace(short, alpha=8.0))
    weak = train_dpo(prefs, trajectories, reference_policy(), replace(short, alpha=0.25))
    assert 0.0 < strong.kl < 0.5 * weak.kl
    again = train_dpo(prefs, trajectories, reference_policy(), replace(short, alpha=8.0))
    assert again.kl == strong.kl  # deterministic given the seed


def test_ties_only_train_without_an_accuracy(
    train_set: tuple[pd.DataFrame, dict[str, Trajectory]],
) -> None:
    prefs, trajectories = train_set
    ties = prefs[prefs["preference"] == 0.5]
    result = train_dpo(ties, trajectories, reference_policy(), replace(FAST, steps=20))
    assert np.isnan(result.accuracy) and np.isnan(result.history[-1].accuracy)
    assert np.isfinite(result.history[-1].loss) and result.history[-1].loss <= np.log(2) + 1e-6


def test_bad_pairs_and_config_are_refused(
    train_set: tuple[pd.DataFrame, dict[str, Trajectory]],
) -> None:
    prefs, trajectories = train_set
    ref = reference_policy()
    unknown = prefs.assign(trajectory_b_id=["nope", *prefs["trajectory_b_id"][1:]])
    with pytest.raises(InputError, match="'nope'") as info:
        train_dpo(unknown, trajectories, ref, FAST)
    assert info.value.field == "trajectory_b_id"
    with pytest.raises(InputError, match="outside") as info:
        train_dpo(prefs.assign(preference=0.7), trajectories, ref, FAST)
    assert info.value.field == "preference"
    with pytest.raises(InputError, match="missing column"):
        train_dpo(prefs.drop(columns="preference"), trajectories, ref, FAST)
    with pytest.raises(InputError, match="reference policy's is 12"):
        train_dpo(prefs, trajectories, reference_policy(obs_dim=12), FAST)
    with pytest.raises(InputError, match="alpha") as info:
        DPOConfig(alpha=0.0)
    assert info.value.path == "DPOConfig"
    with pytest.raises(InputError, match="steps"):
        DPOConfig(steps=-1)

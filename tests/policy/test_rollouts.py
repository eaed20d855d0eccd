"""Rollouts, best-of-N and the pool's new tier, on a real (tiny, state-only) Meta-World pool."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file
from tests.policy.conftest import TASK

from robopref.errors import InputError
from robopref.policy.best_of_n import BestOfNConfig, best_of_n
from robopref.policy.rollouts import RolloutJob, RolloutRunner, RolloutSettings
from robopref.policy.scorers import OracleReward, SafetyPenalty, WithSafety
from robopref.policy.to_pool import AllFailedError, add_rollouts, next_checkpoint_index
from robopref.pool.generate.generator import POLICIES
from robopref.pool.pool import Pool, open_pool
from robopref.pool.true_return import true_return
from robopref.sim.bc import BCController

pytestmark = pytest.mark.sim

SETTINGS = RolloutSettings(max_steps=40, settle_steps=5)


@pytest.fixture(scope="module")
def pool(policy_pool: Pool) -> Pool:
    return policy_pool


@pytest.fixture(scope="module")
def weights(pool: Pool) -> dict[str, np.ndarray]:
    return load_file(str(pool.root / POLICIES / "bc-s0" / TASK / "checkpoint_2.safetensors"))


@pytest.fixture(scope="module")
def runner() -> object:
    with RolloutRunner(SETTINGS, workers=2) as r:
        yield r


def _jobs(weights: dict[str, np.ndarray], policy_seed: int | None) -> list[RolloutJob]:
    return [
        RolloutJob(task=TASK, env_seed=100 + i, weights=weights, policy_seed=policy_seed, index=i)
        for i in range(3)
    ]


def test_same_rollouts_for_any_worker_count(runner: RolloutRunner, weights: dict) -> None:
    two = runner.run(_jobs(weights, policy_seed=7))
    with RolloutRunner(SETTINGS, workers=1) as one_worker:
        one = one_worker.run(_jobs(weights, policy_seed=7))
    assert [t.trajectory_id for t in one] == [t.trajectory_id for t in two]
    for a, b in zip(one, two, strict=True):
        np.testing.assert_array_equal(a.state, b.state)
        np.testing.assert_array_equal(a.action, b.action)
    assert not one[0].frames and one[0].env_reward is not None
    assert one[0].metadata["policy_seed"] == 7 and one[0].metadata["horizon_s"] > 0



def test_rollouts_on_ray_match_the_process_pool_and_shut_their_session(
    runner: RolloutRunner, weights: dict
) -> None:
    import ray

    local = runner.run(_jobs(weights, policy_seed=3))
    with RolloutRunner(SETTINGS, ray_address="local") as on_ray:
        remote = on_ray.run(_jobs(weights, policy_seed=3))
        assert ray.is_initialized()
    assert not ray.is_initialized()  # the session the runner started ends with it
    for a, b in zip(local, remote, strict=True):
        assert a.trajectory_id == b.trajectory_id
        np.testing.assert_array_equal(a.action, b.action)

def test_mean_policy_acts_with_the_mean_and_sampling_differs(
    runner: RolloutRunner, weights: dict
) -> None:
    (det,) = runner.run(_jobs(weights, policy_seed=None)[:1])
    mean_actions = np.array([BCController(weights, name="x").act(s) for s in det.state])
    np.testing.assert_allclose(det.action, mean_actions, atol=1e-5)  # state stored as float32
    a, b = runner.run([replace(_jobs(weights, 1)[0]), replace(_jobs(weights, 2)[0], index=1)])
    np.testing.assert_array_equal(a.state[0], b.state[0])  # the same placement
    assert not np.allclose(a.action[: len(b.action)][:5], b.action[:5])  # other noise


def test_best_of_n_keeps_the_best_scored_candidate(runner: RolloutRunner, weights: dict) -> None:
    seeds = [200, 201]
    result = best_of_n(
        runner, TASK, weights, seeds, OracleReward(), BestOfNConfig(n=3, noise_scale=3.0)
    )
    assert result.scores.shape == (2, 3)
    for candidates, chosen, scores in zip(
        result.candidates, result.chosen, result.scores, strict=True
    ):
        starts = {c.state[0].tobytes() for c in candidates}
        assert len(starts) == 1  # every candidate of a placement starts from it
        assert true_return(chosen) == pytest.approx(max(scores))
    assert result.candidates[0][0].state[0].tobytes() != result.candidates[1][0].state[0].tobytes()
    safe = WithSafety(OracleReward(), SafetyPenalty(major_collision=100.0))
    assert safe.score(result.candidates[0]).shape == (3,)


def test_rollouts_become_the_next_tier(
    tmp_path: Path, pool: Pool, runner: RolloutRunner, weights: dict
) -> None:
    import shutil

    target = tmp_path / "pool"
    shutil.copytree(pool.root, target)
    assert next_checkpoint_index(open_pool(target)) == 3
    rollouts = runner.run(_jobs(weights, policy_seed=3))
    failed = [replace(t, success=False, success_step=None) for t in rollouts]
    before = open_pool(target).manifest
    with pytest.raises(AllFailedError, match="failed"):
        add_rollouts(target, failed)
    assert len(open_pool(target).manifest) == len(before)
    ok = [replace(rollouts[0], success=True, success_step=len(rollouts[0].state) - 1)]
    ok += rollouts[1:]
    new, source = add_rollouts(target, ok)
    assert source == "policy_checkpoint_3"
    rows = new.manifest[new.manifest["source"] == source]
    assert len(rows) == 3 and rows["quality_score"].notna().all()
    assert rows["trajectory_id"].str.contains("__policy_checkpoint_3__").all()
    assert new[rows["trajectory_id"].iloc[0]].metadata["rollout_of"] == "policy"
    with pytest.raises(InputError, match="exists"):
        add_rollouts(target, ok, index=3)

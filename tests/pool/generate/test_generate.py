"""Meta-World pool generation: tiers, determinism, frames, metrics, BC checkpoints."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import robopref.pool as rp
from robopref.errors import InputError
from robopref.pool.config import GenerateConfig
from robopref.pool.generate import generate_pool
from robopref.pool.generate.generator import POLICIES

pytestmark = pytest.mark.sim

SMALL = GenerateConfig(
    tasks=("reach-v3",),
    experts=2,
    novices=1,
    checkpoints=2,
    per_checkpoint=1,
    scripted_failures=2,
    randoms=2,
    bc_demos=8,
    bc_steps=240,
    max_steps=60,
    image_size=64,
    cameras=("corner", "gripperPOV"),
    workers=1,
)


@pytest.fixture(scope="module")
def framed(tmp_path_factory: pytest.TempPathFactory) -> rp.Pool:
    """A small pool with frames, one worker."""
    return generate_pool(SMALL, tmp_path_factory.mktemp("framed") / "pool")


@pytest.fixture(scope="module")
def state_only(tmp_path_factory: pytest.TempPathFactory) -> rp.Pool:
    """The same pool, state-only, two workers."""
    config = replace(SMALL, frames=False, workers=2)
    return generate_pool(config, tmp_path_factory.mktemp("state") / "pool")


def _arrays(pool: rp.Pool, trajectory_id: str) -> dict[str, np.ndarray]:
    with np.load(pool.trajectory_dir(trajectory_id) / "arrays.npz", allow_pickle=False) as data:
        return {k: data[k] for k in data.files if k != "timestamps_s"}


def test_every_tier_present_with_source_labels(framed: rp.Pool) -> None:
    sources = framed.manifest["source"].value_counts().to_dict()
    assert sources == {
        "expert": 2,
        "novice": 1,
        "policy_checkpoint_1": 1,
        "policy_checkpoint_2": 1,
        "scripted": 2,
        "random": 2,
    }
    assert set(framed.manifest["tier"]) == {
        "expert",
        "novice",
        "policy_checkpoint",
        "scripted",
        "random",
    }
    assert "reach-v3__expert__s0-0001" in framed
    assert (framed.manifest["task"] == "move the gripper to the red target point").all()


def test_frames_are_upright_and_not_black(framed: rp.Pool) -> None:
    traj = framed["reach-v3__expert__s0-0000"]
    assert traj.cameras == ["corner", "gripperPOV"]
    frames = traj.frames["corner"]
    assert frames.shape == (traj.n_steps, 64, 64, 3)
    assert frames.reshape(len(frames), -1).max(axis=1).min() > 0
    # Upright: the brown wooden table fills the lower half of the corner view, not the upper.
    first = frames[0].astype(float)
    brown = (first[..., 0] > first[..., 2] + 25) & (first[..., 1] > first[..., 2])
    assert brown[32:].mean() > 2 * brown[:32].mean()


def test_state_only_pool_has_no_cameras(state_only: rp.Pool) -> None:
    assert all(len(c) == 0 for c in state_only.manifest["cameras"])
    assert not list(state_only.trajectory_dir("reach-v3__random__s0-0000").glob("*.mp4"))


def test_worker_count_and_frames_do_not_change_episodes(
    framed: rp.Pool, state_only: rp.Pool
) -> None:
    assert sorted(framed.manifest["trajectory_id"]) == sorted(state_only.manifest["trajectory_id"])
    for tid in framed.manifest["trajectory_id"]:
        a, b = _arrays(framed, tid), _arrays(state_only, tid)
        assert a.keys() == b.keys()
        for key in a:
            np.testing.assert_array_equal(a[key], b[key], err_msg=f"{tid}: {key}")


def test_same_seed_same_pool_and_other_seed_differs(state_only: rp.Pool, tmp_path: Path) -> None:
    config = replace(SMALL, frames=False, workers=1, tasks=("reach-v3",), checkpoints=0)
    again = generate_pool(config, tmp_path / "again")
    other = generate_pool(replace(config, seed=1), tmp_path / "other")
    tid = "reach-v3__novice__s0-0000"
    for key, value in _arrays(state_only, tid).items():
        np.testing.assert_array_equal(value, _arrays(again, tid)[key])
    assert not np.array_equal(
        _arrays(again, tid)["state"][0], _arrays(other, "reach-v3__novice__s1-0000")["state"][0]
    )


def test_metric_columns_filled(framed: rp.Pool) -> None:
    m = framed.manifest
    for column in (
        "min_clearance_m",
        "final_goal_distance_m",
        "progress",
        "quality_score",
        "horizon_s",
        "true_return",
    ):
        assert m[column].notna().all(), column
    assert (m["fps"] == 80.0).all()
    assert (m["horizon_s"] == 60 / 80.0).all()
    traj = framed["reach-v3__expert__s0-0000"]
    assert traj.force is not None and traj.clearance is not None and traj.goal_distance is not None
    assert traj.goal_distance[-1] < traj.goal_distance[0]
    assert traj.env_reward is not None and traj.env_reward.shape == (traj.n_steps,)
    assert traj.env_reward[-1] > traj.env_reward[0]  # the env's reward rises as it reaches
    assert traj.success and traj.success_step is not None
    assert traj.metadata["policy"] == "SawyerReachV3Policy"
    assert traj.metadata["cameras"] == "corner,gripperPOV"


def test_expert_beats_random(framed: rp.Pool) -> None:
    by_source = framed.manifest.groupby("source")
    assert by_source["success"].mean()["expert"] == 1.0
    assert by_source["success"].mean()["random"] == 0.0
    assert (
        by_source["quality_score"].mean()["expert"] > by_source["quality_score"].max()["random"] + 2
    )
    # the simulator's own return (ground truth no model reads) agrees on the extremes
    assert by_source["true_return"].min()["expert"] > by_source["true_return"].max()["random"]


def test_collide_failure_records_a_collision(framed: rp.Pool) -> None:
    collide = framed.manifest[framed.manifest["trajectory_id"] == "reach-v3__scripted__s0-0001"]
    traj = framed["reach-v3__scripted__s0-0001"]
    assert traj.metadata["failure_mode"] == "collide"
    assert int(collide["collisions"].iloc[0]) >= 1
    assert traj.force is not None and traj.force.max() > 0


def test_bc_checkpoints_saved_and_improving(framed: rp.Pool) -> None:
    info = json.loads(
        (framed.root / POLICIES / "bc-s0" / "reach-v3" / "checkpoints.json").read_text()
    )
    losses = [c["train_loss"] for c in info["checkpoints"]]
    assert [c["index"] for c in info["checkpoints"]] == [1, 2]
    assert losses[1] < 0.5 * losses[0]
    assert info["checkpoints"][1]["val_loss"] < info["checkpoints"][0]["val_loss"]
    assert (framed.root / POLICIES / "bc-s0" / "reach-v3" / "checkpoint_2.safetensors").is_file()


def test_unknown_task_is_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="tasks"):
        generate_pool(replace(SMALL, tasks=("no-such-v3",)), tmp_path / "bad")
    assert not (tmp_path / "bad" / "manifest.parquet").exists()

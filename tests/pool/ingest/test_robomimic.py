"""robomimic HDF5 import: a tiny file written here with h5py, in robomimic's layout."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest

import robopref.pool as rp
from robopref.errors import InputError
from robopref.pool.config import IngestConfig
from robopref.pool.ingest import ingest

LENGTHS = {"demo_0": 6, "demo_1": 7, "demo_2": 5, "demo_10": 4}
SUCCESS_STEP = {"demo_0": 4, "demo_1": None, "demo_2": 2, "demo_10": None}


def _frames(n):
    """Smooth frames whose brightness steps by 20 per step (so order is checkable)."""
    gradient = np.linspace(0, 60, 32)[None, :, None]
    steps = 20 * np.arange(n)[:, None, None, None]
    return np.broadcast_to(40 + steps + gradient[None], (n, 32, 32, 3)).astype(np.uint8)


def _demo(rng, n):
    fingers = rng.uniform(0, 0.04, n)
    return {
        "robot0_eef_pos": rng.normal(size=(n, 3)).astype(np.float32),
        "robot0_gripper_qpos": np.stack([fingers, -fingers], 1).astype(np.float32),
        "object": rng.normal(size=(n, 5)).astype(np.float32),
        "agentview_image": _frames(n),
    }


def write_robomimic(path, *, reward_shaping=False, rng=None):
    rng = rng or np.random.default_rng(0)
    demos = {}
    with h5py.File(path, "w") as f:
        data = f.create_group("data")
        env_kwargs = {"control_freq": 20, "reward_shaping": reward_shaping, "reward_scale": 1.0}
        data.attrs["env_args"] = json.dumps(
            {"env_name": "Lift", "type": 1, "env_kwargs": env_kwargs}
        )
        for key, n in LENGTHS.items():
            demo = data.create_group(key)
            obs = _demo(rng, n)
            for name, value in obs.items():
                demo.create_dataset(f"obs/{name}", data=value)
            rewards = np.zeros(n)
            if SUCCESS_STEP[key] is not None:
                rewards[SUCCESS_STEP[key] :] = 1.0
            demo.create_dataset("actions", data=rng.normal(size=(n, 7)).astype(np.float32))
            demo.create_dataset("rewards", data=rewards)
            demo.create_dataset("dones", data=np.eye(n)[-1])
            demo.attrs["num_samples"] = n
            demos[key] = (obs, demo["actions"][()])
        data.attrs["total"] = sum(LENGTHS.values())
    return demos


def test_robomimic_round_trip_maps_obs_to_state_effector_cameras_and_success(tmp_path):
    path = tmp_path / "lift_ph.hdf5"
    demos = write_robomimic(path)
    report = ingest("robomimic", path, tmp_path / "pool", IngestConfig())
    assert report.imported == 4
    pool = rp.open(tmp_path / "pool")
    assert list(pool.manifest["source_episode"]) == ["demo_0", "demo_1", "demo_2", "demo_10"]
    for key, (obs, actions) in demos.items():
        traj = pool[f"lift_ph-{key}"]
        lowdim = ("object", "robot0_eef_pos", "robot0_gripper_qpos")
        np.testing.assert_array_equal(traj.state, np.concatenate([obs[k] for k in lowdim], 1))
        np.testing.assert_array_equal(traj.action, actions)
        np.testing.assert_array_equal(traj.ee_pos, obs["robot0_eef_pos"])
        gap = obs["robot0_gripper_qpos"][:, 0] - obs["robot0_gripper_qpos"][:, 1]
        np.testing.assert_allclose(traj.gripper, gap / 0.08, atol=1e-6)
        assert traj.cameras == ["agentview"]
        error = np.abs(traj.frames["agentview"].astype(int) - obs["agentview_image"])
        assert error.mean(axis=(1, 2, 3)).max() < 3  # per frame: order and pixels kept
        assert (traj.env_id, traj.task, traj.fps, traj.source) == (
            "Lift",
            "Lift",
            20.0,
            "robomimic",
        )
        assert traj.success == (SUCCESS_STEP[key] is not None)
        assert traj.success_step == SUCCESS_STEP[key]
        assert traj.metadata["state_keys"] == ",".join(lowdim)
        assert traj.metadata["success_source"] == "sparse rewards"
    assert set(pool.manifest["source_dataset"]) == {str(path)}


def test_shaped_rewards_leave_success_unknown_unless_a_key_is_named(tmp_path):
    path = tmp_path / "shaped.hdf5"
    write_robomimic(path, reward_shaping=True)
    ingest("robomimic", path, tmp_path / "pool", IngestConfig())
    assert not rp.open(tmp_path / "pool").manifest["success_known"].any()
    ingest("robomimic", path, tmp_path / "other", IngestConfig(success_key="rewards"))
    manifest = rp.open(tmp_path / "other").manifest.set_index("source_episode")
    assert manifest.loc["demo_0", "success"] and not manifest.loc["demo_1", "success"]


def test_num_samples_mismatch_and_short_obs_are_skipped_by_demo_key(tmp_path):
    path = tmp_path / "bad.hdf5"
    write_robomimic(path)
    with h5py.File(path, "a") as f:
        f["data/demo_1"].attrs["num_samples"] = 99
        del f["data/demo_2/obs/robot0_eef_pos"]
        f["data/demo_2/obs/robot0_eef_pos"] = np.zeros((3, 3), np.float32)
    report = ingest("robomimic", path, tmp_path / "pool", IngestConfig(skip_bad=True))
    assert report.imported == 2
    reasons = dict(report.skipped)
    assert set(reasons) == {"demo_1", "demo_2"}
    assert "num_samples" in reasons["demo_1"] and "obs/robot0_eef_pos" in reasons["demo_2"]
    with pytest.raises(InputError) as info:
        ingest("robomimic", path, tmp_path / "strict", IngestConfig())
    assert info.value.field == "num_samples" and "data/demo_1" in info.value.path
    assert not (tmp_path / "strict").exists()


def test_a_file_without_data_group_is_refused(tmp_path):
    path = tmp_path / "empty.hdf5"
    with h5py.File(path, "w") as f:
        f.create_group("other")
    with pytest.raises(InputError) as info:
        ingest("robomimic", path, tmp_path / "pool", IngestConfig())
    assert info.value.field == "data"

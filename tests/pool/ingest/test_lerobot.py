"""LeRobot v3.0 / v2.1 import against fixtures written by the lerobot package itself."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest

import robopref.pool as rp
from robopref.errors import InputError
from robopref.pool.config import IngestConfig
from robopref.pool.ingest import ingest

from .conftest import LEROBOT_DATA

V21_CONFIG = IngestConfig(effector_fallback="state")  # the v2.1 fixture has no ee features


def _import(version, pool_dir, config=None):
    config = config or (V21_CONFIG if version == "v21" else IngestConfig())
    report = ingest("lerobot", LEROBOT_DATA / version, pool_dir, config)
    return report, rp.open(pool_dir)


@pytest.mark.parametrize(("version", "n_state"), [("v30", 6), ("v21", 4)])
def test_import_round_trips_states_actions_tasks_and_provenance(
    tmp_path, pattern, version, n_state
):
    report, pool = _import(version, tmp_path / "pool")
    assert report.imported == 3 and report.skipped == []
    manifest = pool.manifest.set_index("source_episode")
    for episode, length in enumerate(pattern.LENGTHS):
        row = manifest.loc[str(episode)]
        traj = pool[row["trajectory_id"]]
        assert traj.n_steps == length == row["n_steps"]
        np.testing.assert_array_equal(traj.state, pattern.state(episode, n_state))
        np.testing.assert_array_equal(traj.action, pattern.action(episode))
        assert traj.task == row["task"] == pattern.task(episode)
        assert row["source_dataset"] == str(LEROBOT_DATA / version)
        assert traj.fps == pattern.FPS and traj.source == "lerobot"
        np.testing.assert_allclose(traj.times_s, np.arange(length) / pattern.FPS, atol=1e-6)
        assert traj.metadata["source_format"] == f"lerobot {'v3.0' if version == 'v30' else 'v2.1'}"


@pytest.mark.parametrize("version", ["v30", "v21"])
def test_av1_frames_decode_aligned_and_within_video_tolerance(tmp_path, pattern, version):
    _, pool = _import(version, tmp_path / "pool")
    for episode in range(len(pattern.LENGTHS)):
        traj = pool[f"{version}-ep{episode:06d}"]
        decoded = traj.frames["front"].astype(np.int16)
        expected = pattern.frames(episode).astype(np.int16)
        assert decoded.shape == expected.shape
        assert np.abs(decoded - expected).mean() < 6  # AV1 crf 30, then the pool's H.264
        # the red block moves 3 px per step: its centre in each frame proves that frame t is
        # step t (no off-by-one between episodes packed into one v3 file)
        centre = _block_centre(decoded, pattern.background())
        np.testing.assert_allclose(centre, _block_centre(expected, pattern.background()), atol=1.0)


def _block_centre(frames, background):
    """Column centroid of where each frame differs clearly from the known background."""
    weight = np.clip(np.abs(frames - background[None]).sum(axis=3) - 90, 0, None)
    columns = np.arange(frames.shape[2])
    return (weight.sum(axis=1) * columns).sum(axis=1) / weight.sum(axis=(1, 2))


def test_v30_takes_ee_pos_and_gripper_from_named_state_dims_and_success_from_next_success(
    tmp_path, pattern
):
    _, pool = _import("v30", tmp_path / "pool")
    traj = pool["v30-ep000000"]
    state = pattern.state(0, 6)
    np.testing.assert_array_equal(traj.ee_pos, state[:, 2:5])
    np.testing.assert_array_equal(traj.gripper, state[:, 5])
    assert traj.metadata["ee_pos_source"] == "state[ee.x,ee.y,ee.z]"
    assert traj.metadata["gripper_source"].startswith("state[gripper]")
    successes = {t.metadata["source_episode"]: t.success for t in pool}
    assert successes == {str(e): pattern.success(e) for e in range(3)}
    assert pool["v30-ep000000"].success_step == pattern.LENGTHS[0] - 1
    assert pool.manifest["success_known"].all()


def test_v21_state_fallback_is_recorded_and_success_stays_unknown(tmp_path, pattern):
    _, pool = _import("v21", tmp_path / "pool")
    traj = pool["v21-ep000001"]
    np.testing.assert_array_equal(traj.ee_pos, pattern.state(1, 4)[:, :3])
    assert traj.metadata["ee_pos_source"] == "state[0:3] (fallback: assumed)"
    assert traj.success is None and not pool.manifest["success_known"].any()


def test_missing_end_effector_without_fallback_stops_naming_the_field(tmp_path):
    with pytest.raises(InputError) as info:
        ingest("lerobot", LEROBOT_DATA / "v21", tmp_path / "pool", IngestConfig())
    assert info.value.field == "ee_pos" and "--effector-fallback" in info.value.message
    assert not (tmp_path / "pool").exists()


def test_ee_pos_key_names_state_dims_and_options_override_labels(tmp_path, pattern):
    config = IngestConfig(
        ee_pos_key="joint_0,joint_1,joint_2",
        source_label="expert",
        task="do it",
        env_id="koch",
        source_dataset="someone/koch_v21",
        id_prefix="koch",
    )
    _, pool = _import("v21", tmp_path / "pool", config)
    traj = pool["koch-ep000002"]
    np.testing.assert_array_equal(traj.ee_pos, pattern.state(2, 4)[:, :3])
    assert (traj.source, traj.task, traj.env_id) == ("expert", "do it", "koch")
    assert set(pool.manifest["source_dataset"]) == {"someone/koch_v21"}
    assert set(pool.manifest["tier"]) == {"expert"}


def test_success_key_reads_a_named_per_frame_feature(tmp_path):
    _, pool = _import("v30", tmp_path / "pool", IngestConfig(success_key="next.success"))
    assert pool["v30-ep000001"].success is False and pool["v30-ep000002"].success is True
    with pytest.raises(InputError, match="success_key"):
        _import("v30", tmp_path / "other", IngestConfig(success_key="nope"))


def test_max_episodes_limits_the_import(tmp_path):
    report, pool = _import("v30", tmp_path / "pool", IngestConfig(max_episodes=2))
    assert report.imported == 2 and len(pool) == 2


def test_unsupported_codebase_version_is_refused(lerobot_copy, tmp_path):
    source = lerobot_copy("v30")
    info = source / "meta" / "info.json"
    info.write_text(info.read_text().replace('"v3.0"', '"v1.6"'))
    with pytest.raises(InputError) as error:
        ingest("lerobot", source, tmp_path / "pool", IngestConfig())
    assert error.value.field == "codebase_version"


def test_reimporting_the_same_episodes_clashes_and_leaves_the_pool_unchanged(tmp_path):
    _import("v30", tmp_path / "pool")
    before = pq.read_table(tmp_path / "pool" / "manifest.parquet")
    with pytest.raises(InputError, match="already in pool"):
        _import("v30", tmp_path / "pool")
    assert pq.read_table(tmp_path / "pool" / "manifest.parquet").equals(before)

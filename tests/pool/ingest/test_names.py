"""Names from data never become paths as they are: cameras, file stems, ids, the pool target."""

from __future__ import annotations

import json
import shutil

import h5py
import numpy as np
import pytest

import robopref.pool as rp
from robopref.errors import InputError
from robopref.pool.config import IngestConfig
from robopref.pool.ingest import ingest
from robopref.safe_paths import is_safe_name

from .conftest import LEROBOT_DATA
from .test_robomimic import write_robomimic


def _episode(n=4, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "state": rng.normal(size=(n, 4)).astype(np.float32),
        "action": rng.normal(size=(n, 2)).astype(np.float32),
        "ee_pos": rng.normal(size=(n, 3)).astype(np.float32),
        "gripper": rng.uniform(0, 1, n).astype(np.float32),
    }


def _files(root):
    return {p.relative_to(root).as_posix() for p in root.rglob("*")}


def test_npz_camera_keys_that_traverse_or_are_absolute_stay_inside_the_pool(tmp_path):
    """The issue's reproducer: `frames_../../x` wrote x.mp4 outside the pool and exited 0."""
    source, outside = tmp_path / "demos" / "inner", tmp_path / "demos"
    source.mkdir(parents=True)
    frames = np.full((4, 8, 8, 3), 100, np.uint8)
    hostile = {"frames_../../x": frames, f"frames_{tmp_path}/abs": frames, "frames_top": frames}
    np.savez(source / "ep0.npz", **_episode(), **hostile)
    before = _files(tmp_path)
    ingest("npz", source, tmp_path / "pool", IngestConfig(task="t", fps=10))
    assert {f for f in _files(tmp_path) - before if not f.startswith("pool")} == set()
    assert not (tmp_path / "abs.mp4").exists() and not list(outside.glob("*.mp4"))
    traj = rp.open(tmp_path / "pool")["inner-ep0"]
    cameras = json.loads(str(traj.metadata["source_cameras"]))
    assert set(cameras) == set(hostile) and cameras["frames_top"] == "top"
    assert cameras["frames_../../x"].startswith("x-") and all(map(is_safe_name, traj.cameras))
    assert {p.stem for p in (tmp_path / "pool" / "trajectories" / "inner-ep0").glob("*.mp4")} == {
        *traj.cameras
    }


def test_lerobot_video_keys_become_safe_camera_names_with_the_keys_recorded(tmp_path, lerobot_copy):
    source = lerobot_copy("v21")
    info_path = source / "meta" / "info.json"
    info = json.loads(info_path.read_text())
    info["features"]["observation.images.front view"] = info["features"].pop(
        "observation.images.front"
    )
    info_path.write_text(json.dumps(info))
    videos = source / "videos" / "chunk-000"
    (videos / "observation.images.front").rename(videos / "observation.images.front view")
    ingest("lerobot", source, tmp_path / "pool", IngestConfig(effector_fallback="state"))
    traj = rp.open(tmp_path / "pool")["src_v21-ep000000"]
    (camera,) = traj.cameras
    assert camera.startswith("front_view-") and is_safe_name(camera)
    assert json.loads(str(traj.metadata["source_cameras"])) == {
        "observation.images.front view": camera
    }


def test_lerobot_camera_names_equal_but_for_case_are_refused(lerobot_copy, tmp_path):
    source = lerobot_copy("v30")
    info_path = source / "meta" / "info.json"
    info = json.loads(info_path.read_text())
    info["features"]["observation.images.FRONT"] = info["features"]["observation.images.front"]
    info_path.write_text(json.dumps(info))
    with pytest.raises(InputError) as error:
        ingest("lerobot", source, tmp_path / "pool", IngestConfig())
    assert error.value.field == "features" and "same file name" in error.value.message
    assert not (tmp_path / "pool").exists()


def test_robomimic_camera_keys_are_mapped_and_external_links_not_followed(tmp_path):
    path = tmp_path / "lift.hdf5"
    write_robomimic(path)
    with h5py.File(path, "a") as f:
        f["data/demo_0/obs/front view_image"] = np.zeros((6, 8, 8, 3), np.uint8)
        f["data"]["demo_7"] = h5py.ExternalLink(str(tmp_path / "other.hdf5"), "/data/demo_0")
    report = ingest("robomimic", path, tmp_path / "pool", IngestConfig(skip_bad=True))
    assert [key for key, _ in report.skipped] == ["demo_7"]
    assert "link to another file" in report.skipped[0][1]
    traj = rp.open(tmp_path / "pool")["lift-demo_0"]
    cameras = json.loads(str(traj.metadata["source_cameras"]))
    assert cameras["obs/agentview_image"] == "agentview"
    assert cameras["obs/front view_image"].startswith("front_view-")


def test_long_or_odd_file_stems_give_short_distinct_safe_ids(tmp_path):
    source = tmp_path / "demos"
    source.mkdir()
    stems = ["a" * 200 + "1", "a" * 200 + "2", "with space", ".hidden", "con"]
    for i, stem in enumerate(stems):
        np.savez(source / f"{stem}.npz", **_episode(seed=i))
    ingest("npz", source, tmp_path / "pool", IngestConfig(task="t", fps=10))
    manifest = rp.open(tmp_path / "pool").manifest
    ids = list(manifest["trajectory_id"])
    assert len(set(ids)) == len(stems) and all(is_safe_name(i) and len(i) <= 100 for i in ids)
    assert set(manifest["source_episode"]) == set(stems)
    assert "demos-with_space-" in " ".join(ids)  # cleaned, with a digest of the original


def test_ids_equal_but_for_case_are_refused_before_anything_is_written(tmp_path):
    source = tmp_path / "demos"
    source.mkdir()
    for stem in ("EP1", "ep1"):
        np.savez(source / f"{stem}.npz", **_episode())
    with pytest.raises(InputError) as error:
        ingest("npz", source, tmp_path / "pool", IngestConfig(task="t", fps=10, skip_bad=True))
    assert error.value.field == "trajectory_id" and error.value.path == str(source)
    assert not (tmp_path / "pool").exists()


def test_an_odd_id_prefix_is_made_safe(tmp_path):
    np.savez(tmp_path / "x.npz", **_episode())
    config = IngestConfig(task="t", fps=10, id_prefix="..")
    ingest("npz", tmp_path / "x.npz", tmp_path / "pool", config)
    (trajectory_id,) = rp.open(tmp_path / "pool").manifest["trajectory_id"]
    assert is_safe_name(trajectory_id)


@pytest.mark.parametrize("option", ["task", "env_id", "source_label", "source_dataset"])
def test_command_line_text_with_control_characters_is_refused(tmp_path, option):
    np.savez(tmp_path / "x.npz", **_episode())
    config = IngestConfig(fps=10, **{"task": "t", option: "bad\x00value"})
    with pytest.raises(InputError) as error:
        ingest("npz", tmp_path / "x.npz", tmp_path / "pool", config)
    assert (error.value.path, error.value.field) == ("command line", option)


@pytest.mark.parametrize("target", ["file", "notes"])
def test_a_pool_target_that_is_a_file_or_another_folder_is_refused_untouched(tmp_path, target):
    np.savez(tmp_path / "x.npz", **_episode())
    pool = tmp_path / "pool"
    if target == "file":
        pool.write_text("not a pool\n")
    else:
        pool.mkdir()
        (pool / "notes.txt").write_text("mine\n")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    with pytest.raises(InputError) as error:
        ingest("npz", tmp_path / "x.npz", pool, IngestConfig(task="t", fps=10))
    assert error.value.field == "POOL"
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


def test_the_committed_fixtures_record_their_camera_keys(tmp_path):
    ingest("lerobot", LEROBOT_DATA / "v30", tmp_path / "pool", IngestConfig(max_episodes=1))
    traj = rp.open(tmp_path / "pool")["v30-ep000000"]
    assert json.loads(str(traj.metadata["source_cameras"])) == {"observation.images.front": "front"}
    shutil.rmtree(tmp_path / "pool")

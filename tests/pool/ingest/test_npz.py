"""NPZ import: one file per episode with optional JSON sidecars (spec in docs/pool-ingest.md)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import robopref.pool as rp
from robopref.errors import InputError
from robopref.pool.config import IngestConfig
from robopref.pool.ingest import ingest


def _episode(rng, n):
    return {
        "state": rng.normal(size=(n, 4)).astype(np.float32),
        "action": rng.normal(size=(n, 2)).astype(np.float32),
        "ee_pos": rng.normal(size=(n, 3)).astype(np.float32),
        "gripper": rng.uniform(0, 1, n).astype(np.float32),
        "force": rng.uniform(0, 5, n).astype(np.float32),
        "frames_top": np.full((n, 16, 16, 3), 120, np.uint8),
    }


def write_npz_folder(folder, rng):
    folder.mkdir()
    (folder / "dataset.json").write_text(
        json.dumps({"task": "stack blocks", "fps": 15, "env_id": "sim"})
    )
    episodes = {}
    for i, n in enumerate((5, 8, 6)):
        episodes[f"ep{i}"] = _episode(rng, n)
        np.savez(folder / f"ep{i}.npz", **episodes[f"ep{i}"])
    (folder / "ep1.json").write_text(
        json.dumps({"success": True, "source": "expert", "task": "stack two"})
    )
    return episodes


def test_npz_round_trip_with_sidecars(tmp_path, rng):
    episodes = write_npz_folder(tmp_path / "demos", rng)
    report = ingest("npz", tmp_path / "demos", tmp_path / "pool", IngestConfig())
    assert report.imported == 3
    pool = rp.open(tmp_path / "pool")
    for key, arrays in episodes.items():
        traj = pool[f"demos-{key}"]
        for name in ("state", "action", "ee_pos", "gripper", "force"):
            np.testing.assert_array_equal(getattr(traj, name), arrays[name])
        assert traj.frames["top"].shape == arrays["frames_top"].shape
        assert np.abs(traj.frames["top"].astype(int) - 120).max() <= 2
        assert traj.fps == 15 and traj.env_id == "sim"
        assert traj.metadata["ee_pos_source"] == "ee_pos"
    assert pool["demos-ep1"].task == "stack two" and pool["demos-ep0"].task == "stack blocks"
    assert (pool["demos-ep1"].success, pool["demos-ep1"].source) == (True, "expert")
    assert pool["demos-ep0"].success is None and pool["demos-ep0"].source == "npz"


def test_per_step_success_array_gives_success_step(tmp_path, rng):
    arrays = _episode(rng, 6)
    arrays["success"] = np.array([0, 0, 0, 1, 1, 1], bool)
    np.savez(tmp_path / "one.npz", **arrays)
    ingest("npz", tmp_path / "one.npz", tmp_path / "pool", IngestConfig(task="t", fps=10))
    traj = rp.open(tmp_path / "pool")["one-one"]
    assert traj.success is True and traj.success_step == 3


def test_malformed_npz_files_are_skipped_by_name(tmp_path, rng):
    folder = tmp_path / "demos"
    write_npz_folder(folder, rng)
    bad = _episode(rng, 5)
    del bad["action"]
    np.savez(folder / "ep3.npz", **bad)
    short = _episode(rng, 5)
    short["ee_pos"] = short["ee_pos"][:3]
    np.savez(folder / "ep4.npz", **short)
    np.savez(
        folder / "ep5.npz", state=np.zeros((4, 2)), action=np.array([{"a": 1}] * 4, dtype=object)
    )
    report = ingest("npz", folder, tmp_path / "pool", IngestConfig(skip_bad=True))
    reasons = dict(report.skipped)
    assert report.imported == 3 and set(reasons) == {"ep3", "ep4", "ep5"}
    assert "action" in reasons["ep3"] and "ee_pos" in reasons["ep4"]
    assert "npz" in reasons["ep5"]
    with pytest.raises(InputError) as info:
        ingest("npz", folder, tmp_path / "strict", IngestConfig())
    assert info.value.field == "action" and info.value.path.endswith("ep3.npz")


def test_missing_fps_and_task_name_the_field(tmp_path, rng):
    np.savez(tmp_path / "x.npz", **_episode(rng, 4))
    with pytest.raises(InputError) as info:
        ingest("npz", tmp_path / "x.npz", tmp_path / "pool", IngestConfig(task="t"))
    assert info.value.field == "fps"
    with pytest.raises(InputError) as info:
        ingest("npz", tmp_path / "x.npz", tmp_path / "pool", IngestConfig(fps=10))
    assert info.value.field == "task"

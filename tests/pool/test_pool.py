import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

import robopref.pool as rp
from robopref.errors import InputError
from robopref.pool import pool as pool_module
from robopref.pool.schema import MANIFEST_SCHEMA
from robopref.testing import synthetic_trajectory


def _trajs(rng, n, prefix="t", **kw):
    return [
        synthetic_trajectory(f"{prefix}{i}", quality=q, rng=rng, **kw)
        for i, q in enumerate(np.linspace(0, 1, n))
    ]


def test_append_and_read_back_round_trip(tmp_path, rng):
    trajs = _trajs(rng, 5)
    pool = rp.append_to_pool(tmp_path / "p", trajs)
    assert len(pool) == 5 and "t3" in pool
    back = pool["t3"]
    np.testing.assert_array_equal(back.state, trajs[3].state)
    np.testing.assert_array_equal(back.action, trajs[3].action)
    np.testing.assert_array_equal(back.goal_distance, trajs[3].goal_distance)
    assert back.success == trajs[3].success and back.task == trajs[3].task
    frames = back.frames["front"]
    assert frames.shape == trajs[3].frames["front"].shape
    # stored as H.264 CRF 17: visually lossless, not bit-exact
    assert np.abs(frames.astype(int) - trajs[3].frames["front"]).mean() < 3.0
    assert [t.trajectory_id for t in pool] == [f"t{i}" for i in range(5)]


def test_manifest_matches_schema_and_contract(tmp_path, rng):
    rp.append_to_pool(tmp_path / "p", _trajs(rng, 8))
    table = pq.read_table(tmp_path / "p" / "manifest.parquet")
    assert table.schema.equals(MANIFEST_SCHEMA, check_metadata=False)
    manifest = rp.open(tmp_path / "p").manifest
    assert sorted(manifest["quartile"].unique()) == [1, 2, 3, 4]
    best = manifest.loc[manifest["quality_score"].idxmax()]
    assert best["quartile"] == 4 and bool(best["success"])


def test_arrays_are_readable_with_numpy_alone(tmp_path, rng):
    rp.append_to_pool(tmp_path / "p", _trajs(rng, 2))
    with np.load(tmp_path / "p" / "trajectories" / "t1" / "arrays.npz", allow_pickle=False) as z:
        names = set(z.files)
    assert {"state", "action", "gripper", "ee_pos", "timestamps_s", "contact_step"} <= names
    meta = json.loads((tmp_path / "p" / "trajectories" / "t1" / "meta.json").read_text())
    assert meta["cameras"]["front"]["n_frames"] == 20


def test_second_append_rescores_quartiles_across_the_pool(tmp_path, rng):
    rp.append_to_pool(tmp_path / "p", _trajs(rng, 4, prefix="a"))
    pool = rp.append_to_pool(tmp_path / "p", _trajs(rng, 4, prefix="b"))
    assert len(pool) == 8
    assert pool.manifest["quartile"].value_counts().to_dict() == {1: 2, 2: 2, 3: 2, 4: 2}


def _failing(trajs, after):
    for i, traj in enumerate(trajs):
        if i == after:
            raise RuntimeError("crash while generating")
        yield traj


def test_crash_mid_append_leaves_previous_pool_intact(tmp_path, rng):
    root = tmp_path / "p"
    rp.append_to_pool(root, _trajs(rng, 3, prefix="old"))
    before = (root / "manifest.parquet").read_bytes()
    with pytest.raises(RuntimeError):
        rp.append_to_pool(root, _failing(_trajs(rng, 3, prefix="new"), after=2))
    assert (root / "manifest.parquet").read_bytes() == before
    assert not (root / ".staging").exists()
    assert sorted(p.name for p in (root / "trajectories").iterdir()) == ["old0", "old1", "old2"]


def test_crash_before_manifest_swap_keeps_old_manifest_and_recovers(tmp_path, rng, monkeypatch):
    root = tmp_path / "p"
    rp.append_to_pool(root, _trajs(rng, 2, prefix="old"))

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pool_module, "write_manifest", boom)
    with pytest.raises(OSError):
        rp.append_to_pool(root, _trajs(rng, 2, prefix="new"))
    assert list(rp.open(root).manifest["trajectory_id"]) == ["old0", "old1"]
    monkeypatch.undo()
    pool = rp.append_to_pool(root, _trajs(rng, 2, prefix="new"))  # orphans are replaced
    assert len(pool) == 4


def test_duplicate_trajectory_id_is_refused_and_pool_unchanged(tmp_path, rng):
    root = tmp_path / "p"
    rp.append_to_pool(root, _trajs(rng, 2))
    with pytest.raises(InputError, match="trajectory_id"):
        rp.append_to_pool(root, _trajs(rng, 1))
    assert len(rp.open(root)) == 2


def test_set_manifest_column_updates_only_named_rows(tmp_path, rng):
    pool = rp.append_to_pool(tmp_path / "p", _trajs(rng, 3))
    pool = rp.set_manifest_column(pool, "clip_path", {"t1": "clips/t1.mp4"})
    clips = pool.manifest.set_index("trajectory_id")["clip_path"]
    assert clips["t1"] == "clips/t1.mp4"
    assert clips[["t0", "t2"]].isna().all()
    with pytest.raises(InputError, match="unknown"):
        rp.set_manifest_column(pool, "clip_path", {"nope": "x"})


def test_open_rejects_non_pool_and_unknown_version(tmp_path, rng):
    with pytest.raises(InputError, match=r"manifest\.parquet"):
        rp.open(tmp_path)
    rp.append_to_pool(tmp_path / "p", _trajs(rng, 2))
    info = json.loads((tmp_path / "p" / "pool.json").read_text())
    info["schema_version"] = 99
    (tmp_path / "p" / "pool.json").write_text(json.dumps(info))
    with pytest.raises(InputError, match="schema_version"):
        rp.open(tmp_path / "p")


def test_state_only_pool_has_no_cameras(tmp_path, rng):
    pool = rp.append_to_pool(tmp_path / "p", _trajs(rng, 2, frame_size=None))
    assert pool.manifest["cameras"].map(len).tolist() == [0, 0]
    assert pool["t0"].cameras == []
    assert pool.primary_camera is None


def test_config_is_stored_with_the_pool(tmp_path, rng):
    config = rp.PoolConfig(rubric=rp.RubricConfig(per_minor_collision=0.25))
    pool = rp.append_to_pool(Path(tmp_path / "p"), _trajs(rng, 2), config)
    assert pool.config.rubric.per_minor_collision == 0.25


def test_subset_is_a_view_of_the_same_folder(tmp_path, rng):
    pool = rp.append_to_pool(tmp_path / "p", _trajs(rng, 5))
    view = pool.subset(["t3", "t1"])
    assert len(view) == 2 and list(view.manifest["trajectory_id"]) == ["t1", "t3"]
    assert "t0" not in view and view.root == pool.root
    np.testing.assert_array_equal(view["t3"].state, pool["t3"].state)
    with pytest.raises(InputError, match="trajectory_id"):
        pool.subset(["t1", "nope"])
    assert len(pool) == 5  # the original is unchanged

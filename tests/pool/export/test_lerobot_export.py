"""Pool → LeRobotDataset v3.0 export, read back with our own v3 importer (main venv)."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

import robopref.pool as rp
from robopref.cli import app
from robopref.errors import InputError
from robopref.pool.config import IngestConfig
from robopref.pool.export import export_lerobot
from robopref.pool.export import lerobot as export_module
from robopref.pool.ingest import ingest
from robopref.testing.synthetic import synthetic_trajectory


def _round_trip(pool, tmp_path):
    out = tmp_path / "exported"
    assert export_lerobot(pool, out, repo_id="robopref/test") == len(pool)
    report = ingest("lerobot", out, tmp_path / "back", IngestConfig())
    assert report.imported == len(pool) and not report.skipped
    return out, rp.open(tmp_path / "back")


def test_export_then_import_round_trips_arrays_frames_and_labels(tiny_pool, tmp_path):
    pool = tiny_pool(n=6, n_steps=12)
    _, back = _round_trip(pool, tmp_path)
    assert back.manifest["source_dataset"].iloc[0] == str(tmp_path / "exported")
    for traj in back:
        original = pool[traj.metadata["source_trajectory_id"]]
        for name in ("state", "action", "ee_pos", "gripper"):
            np.testing.assert_array_equal(getattr(traj, name), getattr(original, name))
        error = np.abs(traj.frames["front"].astype(int) - original.frames["front"].astype(int))
        assert error.mean(axis=(1, 2, 3)).max() < 3
        assert (traj.task, traj.env_id, traj.source) == (
            original.task,
            original.env_id,
            original.source,
        )
        assert (traj.success, traj.success_step) == (original.success, original.success_step)
        assert traj.metadata["ee_pos_source"] == "observation.ee_pos"
    assert back.manifest["success"].sum() == pool.manifest["success"].sum() > 0


def test_export_writes_the_v3_layout_lerobot_reads(tiny_pool, tmp_path):
    pool = tiny_pool(n=4, n_steps=10)
    out = tmp_path / "ds"
    export_lerobot(pool, out, repo_id="me/ds")
    info = json.loads((out / "meta" / "info.json").read_text())
    assert info["codebase_version"] == "v3.0" and info["fps"] == 10
    assert (info["total_episodes"], info["total_frames"], info["total_tasks"]) == (4, 40, 1)
    assert info["features"]["observation.state"]["shape"] == [4]
    assert info["features"]["observation.images.front"]["info"]["video.codec"] == "h264"
    episodes = pq.read_table(out / "meta" / "episodes" / "chunk-000" / "file-000.parquet")
    rows = episodes.to_pylist()
    assert [r["dataset_from_index"] for r in rows] == [0, 10, 20, 30]
    assert [r["videos/observation.images.front/from_timestamp"] for r in rows] == [0, 1, 2, 3]
    assert rows[0]["robopref/trajectory_id"] == pool.manifest["trajectory_id"].iloc[0]
    stats = json.loads((out / "meta" / "stats.json").read_text())
    states = np.concatenate([t.state for t in pool])
    np.testing.assert_allclose(stats["observation.state"]["mean"], states.mean(0), rtol=1e-5)
    np.testing.assert_allclose(stats["observation.state"]["q50"], np.quantile(states, 0.5, 0))
    assert np.array(stats["observation.images.front"]["mean"]).shape == (3, 1, 1)
    tasks = pq.read_table(out / "meta" / "tasks.parquet").to_pylist()
    assert tasks == [{"task_index": 0, "task": "reach the red target"}]


def test_episodes_grouped_into_several_files_still_read_back(tiny_pool, tmp_path, monkeypatch):
    monkeypatch.setattr(export_module, "EPISODES_PER_FILE", 2)
    pool = tiny_pool(n=5, n_steps=8)
    out, back = _round_trip(pool, tmp_path)
    assert len(list((out / "data" / "chunk-000").glob("*.parquet"))) == 3
    assert len(list((out / "videos" / "observation.images.front" / "chunk-000").glob("*.mp4"))) == 3
    for traj in back:
        original = pool[traj.metadata["source_trajectory_id"]]
        np.testing.assert_array_equal(traj.state, original.state)
        assert np.abs(traj.frames["front"].astype(int) - original.frames["front"]).mean() < 3


def test_state_only_pool_exports_without_videos(tiny_pool, tmp_path):
    pool = tiny_pool(n=3, frame_size=None)
    out, back = _round_trip(pool, tmp_path)
    assert json.loads((out / "meta" / "info.json").read_text())["video_path"] is None
    assert all(not t.cameras for t in back)


def test_non_empty_output_and_mixed_fps_are_refused_leaving_nothing(tiny_pool, tmp_path, rng):
    pool = tiny_pool(n=2)
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "x").write_text("keep")
    with pytest.raises(InputError) as info:
        export_lerobot(pool, taken, repo_id="a/b")
    assert info.value.field == "OUT" and (taken / "x").read_text() == "keep"
    mixed = rp.append_to_pool(
        tmp_path / "mixed",
        [
            synthetic_trajectory("a", quality=0.5, rng=rng, fps=10),
            synthetic_trajectory("b", quality=0.5, rng=rng, fps=15),
        ],
    )
    with pytest.raises(InputError) as info:
        export_lerobot(mixed, tmp_path / "out", repo_id="a/b")
    assert info.value.field == "fps"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["mixed", "taken", *_pools(tmp_path)]
    )


def _pools(tmp_path):
    return [p.name for p in tmp_path.glob("pool*")]


def test_cli_export_prints_the_summary_line(tiny_pool, tmp_path):
    pool = tiny_pool(n=3, n_steps=6)
    out = tmp_path / "ds"
    result = CliRunner().invoke(
        app, ["pool", "export", str(pool.root), str(out), "--repo-id", "me/x"]
    )
    assert result.exit_code == 0, result.output
    assert " ".join(result.output.split()).endswith(f"exported 3 episodes to {out}")
    assert "me/x" in (out / "README.md").read_text()
    result = CliRunner().invoke(app, ["pool", "export", str(pool.root), str(out)])
    assert result.exit_code == 0, result.output  # an earlier export is replaced
    result = CliRunner().invoke(app, ["pool", "export", str(pool.root), str(pool.root)])
    assert result.exit_code == 2 and "robopref pool output" in result.output  # not an export
    assert (pool.root / "manifest.parquet").is_file()

"""LeRobot itself opens robopref's export and returns the pool's frames, states and actions.

Run by `make interop` under .venv312 (lerobot 0.6.1), after export_tiny_pool.py wrote
ROBOPREF_INTEROP_DIR in the main venv.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from lerobot.datasets.lerobot_dataset import LeRobotDataset


@pytest.fixture(scope="module")
def exported() -> tuple[Path, dict, dict]:
    if "ROBOPREF_INTEROP_DIR" not in os.environ:
        pytest.skip("run through `make interop` (it writes the export first)")
    root = Path(os.environ["ROBOPREF_INTEROP_DIR"])
    with np.load(root / "expected.npz") as npz:
        arrays = {key: npz[key] for key in npz.files}
    return root / "dataset", arrays, json.loads((root / "expected.json").read_text())


def _open(root: Path, meta: dict, **kwargs: object) -> LeRobotDataset:
    # torchcodec needs system FFmpeg libraries; PyAV bundles its own
    return LeRobotDataset(meta["repo_id"], root=root, video_backend="pyav", **kwargs)


def test_every_frame_matches_the_pool(exported):
    root, arrays, meta = exported
    dataset = _open(root, meta)
    episodes = meta["episodes"]
    assert dataset.num_episodes == len(episodes)
    assert len(dataset) == sum(e["n_steps"] for e in episodes)
    assert dataset.fps == meta["fps"]
    for i in range(len(dataset)):
        item = dataset[i]
        ep, t = int(item["episode_index"]), int(item["frame_index"])
        np.testing.assert_array_equal(item["observation.state"].numpy(), arrays[f"state_{ep}"][t])
        np.testing.assert_array_equal(item["action"].numpy(), arrays[f"action_{ep}"][t])
        np.testing.assert_array_equal(item["observation.ee_pos"].numpy(), arrays[f"ee_pos_{ep}"][t])
        assert float(item["observation.gripper"]) == arrays[f"gripper_{ep}"][t]
        frame = item["observation.images.front"].numpy().transpose(1, 2, 0) * 255
        assert np.abs(frame - arrays[f"front_{ep}"][t]).mean() < 3
        assert item["task"] == episodes[ep]["task"]
        start = episodes[ep]["success_from"]
        assert bool(item["next.success"]) == (start is not None and t >= start)


def test_episode_metadata_keeps_robopref_provenance_and_stats_load(exported):
    root, _, meta = exported
    dataset = _open(root, meta)
    ids = dataset.meta.episodes["robopref/trajectory_id"]
    assert list(ids) == [e["trajectory_id"] for e in meta["episodes"]]
    assert list(dataset.meta.episodes["robopref/success"]) == [
        e["success"] for e in meta["episodes"]
    ]
    assert dataset.meta.stats["observation.state"]["mean"].shape == (4,)
    assert set(dataset.meta.tasks.index) == {e["task"] for e in meta["episodes"]}


def test_action_chunks_through_delta_timestamps(exported):
    root, arrays, meta = exported
    step = 1 / meta["fps"]
    dataset = _open(root, meta, delta_timestamps={"action": [0, step, 2 * step]})
    item = dataset[3]  # episode 0, frame 3
    np.testing.assert_array_equal(item["action"].numpy(), arrays["action_0"][3:6])
    assert not item["action_is_pad"].any()


def test_a_single_episode_loads_on_its_own(exported):
    root, arrays, meta = exported
    dataset = _open(root, meta, episodes=[2])
    assert len(dataset) == meta["episodes"][2]["n_steps"]
    np.testing.assert_array_equal(dataset[0]["observation.state"].numpy(), arrays["state_2"][0])

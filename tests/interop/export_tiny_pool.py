"""Build a tiny pool, export it as a LeRobotDataset, and write what LeRobot should read back.

Run by `make interop` in the main venv: `python tests/interop/export_tiny_pool.py DIR`.
Writes `DIR/dataset/` (the export), `DIR/expected.npz` (per-episode arrays and the pool's
decoded frames) and `DIR/expected.json` (ids, tasks, success); tests/interop/ reads them in
the Python 3.12 venv that has `lerobot`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

REPO_ID = "robopref/interop"


def main(out: Path) -> None:
    from robopref.pool.export import export_lerobot
    from robopref.testing import tiny_pool

    pool = tiny_pool(out / "pool", n=5, n_steps=12, frame_size=32, tasks=("reach", "reach far"))
    export_lerobot(pool, out / "dataset", repo_id=REPO_ID)
    arrays, episodes = {}, []
    for index, traj in enumerate(pool):
        arrays[f"state_{index}"] = traj.state
        arrays[f"action_{index}"] = traj.action
        arrays[f"ee_pos_{index}"] = traj.ee_pos
        arrays[f"gripper_{index}"] = traj.gripper
        arrays[f"front_{index}"] = np.asarray(traj.frames["front"])
        success_step = traj.success_step if traj.success_step is not None else traj.n_steps - 1
        episodes.append(
            {
                "trajectory_id": traj.trajectory_id,
                "task": traj.task,
                "success": traj.success,
                "success_from": success_step if traj.success else None,
                "n_steps": traj.n_steps,
            }
        )
    np.savez(out / "expected.npz", **arrays)
    expected = {"repo_id": REPO_ID, "fps": pool[pool.manifest["trajectory_id"][0]].fps}
    (out / "expected.json").write_text(json.dumps({**expected, "episodes": episodes}, indent=1))


if __name__ == "__main__":
    main(Path(sys.argv[1]))

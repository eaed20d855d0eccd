"""Write the LeRobot v3.0 fixture `v30/` with the `lerobot` package itself (AV1, its default).

Run from the repository root with the interop venv (Python 3.12, `pip install "lerobot[dataset]"`):

    .venv312/bin/python tests/data/lerobot/write_v30.py

Written with lerobot 0.6.1 (codebase_version v3.0). The content comes from `pattern.py`.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import pattern  # noqa: E402  (numpy only: safe to import anywhere)

OUT = HERE / "v30"
FEATURES = {
    "observation.state": {"dtype": "float32", "shape": (6,), "names": pattern.STATE_NAMES_V30},
    "action": {"dtype": "float32", "shape": (3,), "names": ["dx", "dy", "dz"]},
    "observation.images.front": {
        "dtype": "video",
        "shape": (pattern.HEIGHT, pattern.WIDTH, 3),
        "names": ["height", "width", "channels"],
    },
    "next.success": {"dtype": "bool", "shape": (1,), "names": None},
}


def main() -> None:
    # imported here so that `pytest --doctest-modules tests` in the main venv can import this file
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    shutil.rmtree(OUT, ignore_errors=True)
    dataset = LeRobotDataset.create(
        "robopref/fixture_v30", fps=pattern.FPS, features=FEATURES, root=OUT, robot_type="synthetic"
    )
    for episode, length in enumerate(pattern.LENGTHS):
        state = pattern.state(episode, 6)
        action = pattern.action(episode)
        frames = pattern.frames(episode)
        for t in range(length):
            dataset.add_frame(
                {
                    "observation.state": state[t],
                    "action": action[t],
                    "observation.images.front": frames[t],
                    "next.success": np.array([pattern.success(episode) and t == length - 1]),
                    "task": pattern.task(episode),
                }
            )
        dataset.save_episode()
    dataset.finalize()
    for path in OUT.rglob("*"):  # lerobot leaves its temporary mp4 files mode 0600
        if path.is_file():
            path.chmod(0o644)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()

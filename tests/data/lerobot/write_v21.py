"""Write the LeRobot v2.1 fixture `v21/` with the last v2.1 release of `lerobot` (0.3.3).

lerobot 0.3.3 is the last release whose CODEBASE_VERSION is "v2.1"; it cannot share a venv
with the v3 one, so use a throwaway venv (only needed to regenerate the fixture):

    ~/.pyenv/versions/3.12.1/bin/python3.12 -m venv /tmp/venv_lr033
    /tmp/venv_lr033/bin/pip install "lerobot==0.3.3" "av==15.1.0"  # av 16+ breaks 0.3.3
    /tmp/venv_lr033/bin/python tests/data/lerobot/write_v21.py

Its default video codec is AV1 (libsvtav1), as in v3. The content comes from `pattern.py`;
this fixture has no end-effector features, so importing it needs a documented fallback.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import pattern  # noqa: E402  (numpy only: safe to import anywhere)

OUT = HERE / "v21"
N_STATE = len(pattern.STATE_NAMES_V21)
FEATURES = {
    "observation.state": {
        "dtype": "float32",
        "shape": (N_STATE,),
        "names": pattern.STATE_NAMES_V21,
    },
    "action": {"dtype": "float32", "shape": (3,), "names": ["dx", "dy", "dz"]},
    "observation.images.front": {
        "dtype": "video",
        "shape": (pattern.HEIGHT, pattern.WIDTH, 3),
        "names": ["height", "width", "channels"],
    },
}


def main() -> None:
    # imported here so that `pytest --doctest-modules tests` in the main venv can import this file
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    shutil.rmtree(OUT, ignore_errors=True)
    dataset = LeRobotDataset.create(
        "robopref/fixture_v21", fps=pattern.FPS, features=FEATURES, root=OUT, robot_type="synthetic"
    )
    for episode, length in enumerate(pattern.LENGTHS):
        state = pattern.state(episode, N_STATE)
        action = pattern.action(episode)
        frames = pattern.frames(episode)
        for t in range(length):
            dataset.add_frame(
                {
                    "observation.state": state[t],
                    "action": action[t],
                    "observation.images.front": frames[t],
                },
                task=pattern.task(episode),
            )
        dataset.save_episode()
    for path in OUT.rglob("*"):
        if path.is_file():
            path.chmod(0o644)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()

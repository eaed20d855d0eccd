"""Meta-World generation speed per core: env steps/s (state-only) and rendered frames/s (480×480).

Runs in one process with one thread for Mesa (as a worker does); prints one line per figure,
with wall-clock and CPU-time rates (on a shared machine, CPU time is the fairer per-core figure).

    MUJOCO_GL=egl .venv/bin/python bench/pool_generate.py
"""

from __future__ import annotations

import os
import time
import warnings

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("PYOPENGL_PLATFORM", os.environ["MUJOCO_GL"])
os.environ["LP_NUM_THREADS"] = "1"

from robopref.sim.controllers import ExpertController
from robopref.sim.env import TaskEnv
from robopref.sim.episode import run_episode
from robopref.sim.tasks import task_spec

TASK = "pick-place-v3"
EPISODES = 4
MAX_STEPS = 120


def measure(*, cameras: tuple[str, ...], image_size: int = 480) -> tuple[int, float, float]:
    """(steps, wall s, cpu s) of EPISODES expert episodes run to MAX_STEPS."""
    env = TaskEnv(task_spec(TASK), max_steps=MAX_STEPS, image_size=image_size, cameras=cameras)
    steps = 0
    wall, cpu = time.perf_counter(), time.process_time()
    for seed in range(EPISODES):
        rec = run_episode(
            env,
            ExpertController(TASK),
            seed=seed,
            max_steps=MAX_STEPS,
            settle_steps=None,
            frames=bool(cameras),
        )
        steps += len(rec.obs)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    env.close()
    return steps, wall, cpu


def main() -> None:
    warnings.filterwarnings("ignore")
    steps, wall, cpu = measure(cameras=())
    print(
        f"pool_generate state-only: {steps / wall:.0f} env steps/s wall, "
        f"{steps / cpu:.0f} per CPU-s "
        f"({TASK}, contacts + clearance measured every step)"
    )
    for cameras in (("corner",), ("corner", "gripperPOV")):
        steps, wall, cpu = measure(cameras=cameras)
        n = len(cameras)
        print(
            f"pool_generate frames 480x480 {'+'.join(cameras)}: {steps * n / wall:.1f} frames/s "
            f"wall, {steps * n / cpu:.1f} per CPU-s ({steps / cpu:.1f} env steps per CPU-s)"
        )


if __name__ == "__main__":
    main()

"""Simulator worker processes: OpenGL backend, thread counts, one TaskEnv per task per process.

Workers are spawned (never forked: the parent may hold torch threads and GL state) and pick
their OpenGL backend before MuJoCo is first imported. A second Meta-World env created in a
process after the first renders black frames, so each process keeps one env per task for its
whole life and resets it between episodes. The pool generator and the policy stage's
rollouts both run their jobs through these.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import warnings
import zlib
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from robopref.sim.tasks import task_spec

if TYPE_CHECKING:
    from robopref.sim.env import TaskEnv

logger = logging.getLogger(__name__)

_envs: dict[tuple[str, int, int, tuple[str, ...]], TaskEnv] = {}


def job_seed(seed: int, task: str, stream: str, index: int) -> int:
    """A 32-bit seed for one stream of one task, stable across runs, platforms and workers.

    >>> job_seed(0, "reach-v3", "expert", 3) == job_seed(0, "reach-v3", "expert", 3)
    True
    """
    words = [seed, zlib.crc32(task.encode()), zlib.crc32(stream.encode()), index]
    return int(np.random.SeedSequence(words).generate_state(1)[0])


@lru_cache(maxsize=1)
def gl_backend() -> str:
    """MUJOCO_GL for rendering: the environment's choice, else EGL, else OSMesa.

    Raises:
        RuntimeError: Neither backend can make an offscreen context.
    """
    chosen = os.environ.get("MUJOCO_GL")
    if chosen:
        return chosen
    probe = "import mujoco; c = mujoco.GLContext(8, 8); c.make_current(); c.free()"
    for backend in ("egl", "osmesa"):
        env = {**os.environ, "MUJOCO_GL": backend, "PYOPENGL_PLATFORM": backend}
        result = subprocess.run(
            [sys.executable, "-c", probe], env=env, capture_output=True, check=False
        )
        if result.returncode == 0:
            return backend
        logger.info("MUJOCO_GL=%s unusable: %s", backend, result.stderr.decode()[-300:])
    raise RuntimeError("no offscreen OpenGL: neither EGL nor OSMesa works (set MUJOCO_GL)")


def configure_process(backend: str) -> None:
    """Choose the GL backend and thread counts before MuJoCo loads (idempotent).

    A process initialiser for a process pool; a Ray task calls it first on every run (the
    worker process, and the envs it keeps, outlive the task).
    """
    os.environ["MUJOCO_GL"] = backend
    if backend in ("egl", "osmesa"):
        os.environ["PYOPENGL_PLATFORM"] = backend
    # One thread per worker: Mesa's llvmpipe and BLAS threads only fight each other here.
    for var in ("LP_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    # Meta-World's scripted policies warn on every saturated action; the env clips them anyway.
    warnings.filterwarnings("ignore", message=r"Constant\(s\) may be too high")


def process_env(task: str, *, max_steps: int, image_size: int, cameras: tuple[str, ...]) -> TaskEnv:
    """This process's env for `task` (made on first use, then kept and reset per episode)."""
    from robopref.sim.env import TaskEnv

    key = (task, max_steps, image_size, cameras)
    if key not in _envs:
        if any(k[0] == task for k in _envs):
            raise RuntimeError(
                f"{task}: this process already holds an env for the task with other settings "
                "(a second env renders black frames; use one worker pool per setting)"
            )
        _envs[key] = TaskEnv(
            task_spec(task), max_steps=max_steps, image_size=image_size, cameras=cameras
        )
    return _envs[key]

"""Worker processes: one TaskEnv per task per process, episodes run as jobs, results as rows.

Workers are spawned (never forked: the parent may hold torch threads and GL state) and pick
their OpenGL backend before MuJoCo is first imported. An episode depends only on its job
(seeds, policy), never on which worker runs it or what ran before, so the pool is the same
for any worker count.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import warnings
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from robopref.pool.config import PoolConfig
from robopref.pool.generate.tasks import FailureMode, task_spec
from robopref.pool.trajectory import MetadataValue
from robopref.types import Source

logger = logging.getLogger(__name__)

DEMO = "bc_demo"
"""Source of the expert episodes that train BC; they are not kept in the pool."""


@dataclass(frozen=True, kw_only=True)
class EpisodeJob:
    """One episode to run: everything that determines it."""

    task: str
    """Meta-World env name."""
    source: str
    """Pool source label, or `DEMO` for a BC training episode."""
    index: int
    """Episode number within (task, source)."""
    env_seed: int
    """Seed of the object/goal placement."""
    policy_seed: int
    """Seed of the controller's own randomness (novice noise, random actions...)."""
    failure_mode: FailureMode | None = None
    """Which scripted failure, for the `scripted` source."""
    bc_weights: dict[str, np.ndarray] | None = None
    """BC checkpoint weights, for `policy_checkpoint_N` sources."""
    bc_info: dict[str, MetadataValue] | None = None
    """Checkpoint facts recorded in the metadata (steps, losses)."""


@dataclass(frozen=True, kw_only=True)
class WorkerSettings:
    """Settings shared by every job of one generation."""

    max_steps: int
    """Step limit per episode."""
    settle_steps: int | None
    """Steps kept after the first success (None: run to max_steps)."""
    image_size: int
    """Frame side in pixels."""
    cameras: tuple[str, ...]
    """Cameras to render; empty for a state-only pool."""
    staging: Path
    """Where finished trajectories are written (`PoolTransaction.staging`)."""
    pool: PoolConfig
    """Scoring config (metrics are computed in the worker)."""
    seed: int
    """The generation seed (part of every trajectory id)."""
    gl_backend: str
    """MUJOCO_GL value for the workers."""


@dataclass(frozen=True)
class DemoResult:
    """A BC training episode: observations (T, 39) and actions (T, 4)."""

    obs: np.ndarray
    action: np.ndarray


COLLIDE_FLOOR_DROP_M = 0.08
"""How far the `collide` failure lowers the workspace floor, so its course reaches the table."""

_settings: WorkerSettings | None = None
_envs: dict[str, Any] = {}


def job_seed(seed: int, task: str, stream: str, index: int) -> int:
    """A 32-bit seed for one stream of one task, stable across runs, platforms and workers.

    >>> job_seed(0, "reach-v3", "expert", 3) == job_seed(0, "reach-v3", "expert", 3)
    True
    """
    words = [seed, zlib.crc32(task.encode()), zlib.crc32(stream.encode()), index]
    return int(np.random.SeedSequence(words).generate_state(1)[0])


def trajectory_id(task: str, source: str, *, seed: int, index: int) -> str:
    """Readable, stable id, e.g. `reach-v3__expert__s0-0003`.

    >>> trajectory_id("reach-v3", "expert", seed=0, index=3)
    'reach-v3__expert__s0-0003'
    """
    return f"{task}__{source}__s{seed}-{index:04d}"


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


def init_worker(settings: WorkerSettings) -> None:
    """Process initialiser: choose the GL backend and thread counts before MuJoCo loads."""
    global _settings
    os.environ["MUJOCO_GL"] = settings.gl_backend
    if settings.gl_backend in ("egl", "osmesa"):
        os.environ["PYOPENGL_PLATFORM"] = settings.gl_backend
    # One thread per worker: Mesa's llvmpipe and BLAS threads only fight each other here.
    for var in ("LP_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    # Meta-World's scripted policies warn on every saturated action; the env clips them anyway.
    warnings.filterwarnings("ignore", message=r"Constant\(s\) may be too high")
    _settings = settings
    _envs.clear()


def _env(task: str) -> Any:
    from robopref.pool.generate.env import TaskEnv

    if _settings is None:
        raise RuntimeError("worker used before init_worker")
    if task not in _envs:  # one env and renderer per task for the life of the process
        _envs[task] = TaskEnv(
            task_spec(task),
            max_steps=_settings.max_steps,
            image_size=_settings.image_size,
            cameras=_settings.cameras,
        )
    return _envs[task]


def _controller(job: EpisodeJob, max_steps: int) -> Any:
    from robopref.pool.generate.bc import BCController
    from robopref.pool.generate.policies import (
        ExpertController,
        NoviceController,
        RandomController,
        ScriptedFailureController,
        draw_novice,
    )

    rng = np.random.default_rng(job.policy_seed)
    expert = ExpertController(job.task)
    if job.source in (Source.EXPERT.value, DEMO):
        return expert
    if job.source == Source.NOVICE.value:
        return NoviceController(expert, draw_novice(rng, max_steps), rng)
    if job.source == Source.SCRIPTED.value and job.failure_mode is not None:
        return ScriptedFailureController(
            expert, mode=job.failure_mode, spec=task_spec(job.task), rng=rng
        )
    if job.source == Source.RANDOM.value:
        return RandomController(rng)
    if job.bc_weights is not None:
        return BCController(job.bc_weights, name=f"bc_{job.source}")
    raise ValueError(f"job {job.source!r} has no controller")


def run_job(job: EpisodeJob) -> DemoResult | dict[str, Any]:
    """Run one episode; a demo comes back as arrays, a pool episode as its manifest row."""
    from robopref.pool.generate.episode import run_episode, to_trajectory
    from robopref.pool.pool import stage_trajectory

    settings = _settings
    if settings is None:
        raise RuntimeError("worker used before init_worker")
    env = _env(job.task)
    controller = _controller(job, settings.max_steps)
    demo = job.source == DEMO
    rec = run_episode(
        env,
        controller,
        seed=job.env_seed,
        max_steps=settings.max_steps,
        settle_steps=None if demo else settings.settle_steps,
        frames=bool(settings.cameras) and not demo,
        floor_drop_m=COLLIDE_FLOOR_DROP_M if job.failure_mode is FailureMode.COLLIDE else 0.0,
    )
    if demo:
        return DemoResult(np.stack(rec.obs), np.stack(rec.action))
    metadata = _metadata(job, settings, env=env, params=controller.params)
    traj = to_trajectory(
        rec,
        trajectory_id=trajectory_id(job.task, job.source, seed=settings.seed, index=job.index),
        instruction=env.spec.instruction,
        env_id=job.task,
        source=job.source,
        fps=env.fps,
        metadata=metadata,
    )
    return stage_trajectory(traj, settings.staging, settings.pool)


def _metadata(
    job: EpisodeJob, settings: WorkerSettings, *, env: Any, params: dict[str, MetadataValue]
) -> dict[str, MetadataValue]:
    from importlib.metadata import version

    return {
        "seed": job.env_seed,
        "policy_seed": job.policy_seed,
        "generator": "metaworld",
        "metaworld_version": version("metaworld"),
        "generation_seed": settings.seed,
        "episode_index": job.index,
        "max_steps": settings.max_steps,
        "horizon_s": settings.max_steps / float(env.fps),
        "cameras": ",".join(env.cameras),
        "image_size": settings.image_size if env.cameras else None,
        **params,
        **(job.bc_info or {}),
    }

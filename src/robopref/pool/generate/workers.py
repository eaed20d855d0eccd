"""Pool generation jobs: episodes run in `robopref.sim.workers` processes, results as rows.

An episode depends only on its job
(seeds, policy), never on which worker runs it or what ran before, so the pool is the same
for any worker count.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from robopref.pool.config import PoolConfig
from robopref.pool.trajectory import MetadataValue
from robopref.sim.tasks import FailureMode, task_spec
from robopref.sim.workers import configure_process, gl_backend, job_seed, process_env
from robopref.types import Source

__all__ = [
    "DEMO",
    "EpisodeJob",
    "WorkerSettings",
    "gl_backend",
    "init_worker",
    "job_seed",
    "run_job",
]

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


def trajectory_id(task: str, source: str, *, seed: int, index: int) -> str:
    """Readable, stable id, e.g. `reach-v3__expert__s0-0003`.

    >>> trajectory_id("reach-v3", "expert", seed=0, index=3)
    'reach-v3__expert__s0-0003'
    """
    return f"{task}__{source}__s{seed}-{index:04d}"


def init_worker(settings: WorkerSettings) -> None:
    """Process initialiser: GL backend and thread counts (`sim.workers`), then the settings."""
    global _settings
    configure_process(settings.gl_backend)
    _settings = settings


def _env(task: str) -> Any:
    if _settings is None:
        raise RuntimeError("worker used before init_worker")
    return process_env(
        task,
        max_steps=_settings.max_steps,
        image_size=_settings.image_size,
        cameras=_settings.cameras,
    )


def _controller(job: EpisodeJob, max_steps: int) -> Any:
    from robopref.sim.bc import BCController
    from robopref.sim.controllers import (
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
    from robopref.pool.generate.record import episode_metadata, to_trajectory
    from robopref.pool.pool import stage_trajectory
    from robopref.sim.episode import run_episode

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
    metadata = episode_metadata(
        env,
        env_seed=job.env_seed,
        policy_seed=job.policy_seed,
        generation_seed=settings.seed,
        index=job.index,
        max_steps=settings.max_steps,
        image_size=settings.image_size,
        extra={**controller.params, **(job.bc_info or {})},
    )
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

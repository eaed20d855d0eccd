"""Rolling a policy out in the simulator: worker processes or Ray tasks, the same job function.

A rollout is fully determined by its job (task, placement seed, policy weights, sampling
seed), never by the worker that runs it, so results are the same for any worker count and
on Ray. Each worker process keeps one Meta-World env per task (`robopref.sim.workers`);
frames are rendered only when the settings name cameras, so evaluation pays for physics
alone.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import numpy as np

from robopref.pool.generate.record import episode_metadata, to_trajectory
from robopref.pool.generate.workers import trajectory_id
from robopref.pool.trajectory import MetadataValue, Trajectory
from robopref.progress import ProgressCallback, no_progress
from robopref.ray_session import ray_session
from robopref.sim.bc import BCController
from robopref.sim.episode import run_episode
from robopref.sim.workers import configure_process, gl_backend, process_env

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class RolloutSettings:
    """Settings shared by every rollout of one runner."""

    max_steps: int = 120
    """Step limit per episode (the pool generator's default)."""
    settle_steps: int | None = 12
    """Steps kept after the first success; None runs every episode to `max_steps`."""
    cameras: tuple[str, ...] = ()
    """Cameras to render (empty: state only, the fast default for evaluation)."""
    image_size: int = 480
    """Frame side when rendering."""
    seed: int = 0
    """Part of every trajectory id (`<task>__<source>__s<seed>-<index>`)."""


@dataclass(frozen=True, kw_only=True)
class RolloutJob:
    """One episode of one policy."""

    task: str
    """Meta-World env name."""
    env_seed: int
    """Seed of the object/goal placement."""
    weights: dict[str, np.ndarray] = field(repr=False)
    """Policy weights (`BCCheckpoint.weights` / `GaussianPolicy.weights()`)."""
    policy_seed: int | None = None
    """Seed of the action noise; None acts with the mean (deterministic)."""
    noise_scale: float = 1.0
    """Multiplies the policy's σ when sampling."""
    noise_correlation: float = 0.0
    """AR(1) correlation of the action noise from step to step (`BCController`)."""
    source: str = "policy"
    """Source label of the trajectory (its tier when it goes into a pool)."""
    index: int = 0
    """Episode number within the source (part of the id)."""
    info: dict[str, MetadataValue] = field(default_factory=dict)
    """Extra metadata recorded with the trajectory (round, method, candidate...)."""


_settings: RolloutSettings | None = None


def _init(settings: RolloutSettings, backend: str) -> None:
    global _settings
    configure_process(backend)
    _settings = settings


def run_rollout(job: RolloutJob) -> Trajectory:
    """Run one job in this process (after `_init`): the episode as a Trajectory."""
    settings = _settings
    if settings is None:
        raise RuntimeError("rollout worker used before its initialiser")
    env = process_env(
        job.task,
        max_steps=settings.max_steps,
        image_size=settings.image_size,
        cameras=settings.cameras,
    )
    rng = None if job.policy_seed is None else np.random.default_rng(job.policy_seed)
    controller = BCController(
        job.weights,
        name=job.source,
        rng=rng,
        noise_scale=job.noise_scale,
        noise_correlation=job.noise_correlation,
    )
    rec = run_episode(
        env,
        controller,
        seed=job.env_seed,
        max_steps=settings.max_steps,
        settle_steps=settings.settle_steps,
        frames=bool(settings.cameras),
    )
    metadata = episode_metadata(
        env,
        env_seed=job.env_seed,
        policy_seed=job.policy_seed,
        generation_seed=settings.seed,
        index=job.index,
        max_steps=settings.max_steps,
        image_size=settings.image_size,
        extra={**controller.params, **job.info},
    )
    return to_trajectory(
        rec,
        trajectory_id=trajectory_id(job.task, job.source, seed=settings.seed, index=job.index),
        instruction=env.spec.instruction,
        env_id=job.task,
        source=job.source,
        fps=env.fps,
        metadata=metadata,
    )


def _run_on_ray(job: RolloutJob, settings: RolloutSettings, backend: str) -> Trajectory:
    _init(settings, backend)  # idempotent: the Ray worker process outlives the task
    return run_rollout(job)


class RolloutRunner:
    """Runs rollout jobs in worker processes kept for the runner's life, or on Ray.

    Args:
        settings: Episode settings shared by every job.
        workers: Worker processes (0: one per core); ignored with `ray_address`.
        ray_address: Run each job as a one-CPU Ray task instead (`local` starts a private
            instance, `auto` joins this machine's cluster, `ray://host:10001` a client).

    Use as a context manager: `with RolloutRunner(settings) as runner: runner.run(jobs)`.
    """

    def __init__(
        self, settings: RolloutSettings, *, workers: int = 0, ray_address: str | None = None
    ) -> None:
        self.settings = settings
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.ray_address = ray_address
        self._backend = gl_backend() if settings.cameras else os.environ.get("MUJOCO_GL", "egl")
        self._executor: Executor | None = None
        self._ray: ExitStack | None = None

    def __enter__(self) -> RolloutRunner:
        if self.ray_address is None:
            context = multiprocessing.get_context("spawn")  # never fork GL or torch threads
            self._executor = ProcessPoolExecutor(
                self.workers,
                mp_context=context,
                initializer=_init,
                initargs=(self.settings, self._backend),
            )
        else:
            self._ray = ExitStack()
            self._ray.enter_context(ray_session(self.ray_address))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        if self._ray is not None:
            self._ray.close()
            self._ray = None

    def run(
        self, jobs: Sequence[RolloutJob], *, progress: ProgressCallback = no_progress
    ) -> list[Trajectory]:
        """Run `jobs`; the trajectories come back in job order."""
        out: list[Trajectory | None] = [None] * len(jobs)
        progress(0, len(jobs))
        for done, (i, traj) in enumerate(self._results(jobs), start=1):
            out[i] = traj
            progress(done, len(jobs))
        return [t for t in out if t is not None]

    def _results(self, jobs: Sequence[RolloutJob]) -> Iterator[tuple[int, Trajectory]]:
        if self.ray_address is not None:
            import ray

            task: Any = ray.remote(num_cpus=1, max_retries=1)(_run_on_ray)
            refs = {task.remote(job, self.settings, self._backend): i for i, job in enumerate(jobs)}
            pending = list(refs)
            while pending:
                ready, pending = ray.wait(pending, num_returns=1)
                yield refs[ready[0]], ray.get(ready[0])
            return
        if self._executor is None:
            raise RuntimeError("RolloutRunner.run outside its `with` block")
        from concurrent.futures import as_completed

        futures = {self._executor.submit(run_rollout, job): i for i, job in enumerate(jobs)}
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        except BaseException:
            for future in futures:
                future.cancel()
            raise

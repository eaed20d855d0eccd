"""`generate_pool`: plan the episodes of every tier, run them in workers, train BC, commit."""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from robopref.errors import InputError
from robopref.pool.config import GenerateConfig
from robopref.pool.generate.workers import (
    DEMO,
    DemoResult,
    EpisodeJob,
    WorkerSettings,
    gl_backend,
    init_worker,
    job_seed,
    run_job,
)
from robopref.pool.pool import Pool, open_pool, pool_transaction
from robopref.progress import ProgressCallback, no_progress
from robopref.sim.tasks import task_spec
from robopref.types import Source, checkpoint_source

logger = logging.getLogger(__name__)

POLICIES = "policies"
"""Pool subfolder with the BC checkpoints: `policies/bc-s<seed>/<task>/checkpoint_N.safetensors`."""


def plan_jobs(config: GenerateConfig) -> tuple[list[EpisodeJob], list[EpisodeJob]]:
    """(BC demo jobs, pool jobs of the expert/novice/scripted/random tiers), in a fixed order."""
    demos: list[EpisodeJob] = []
    jobs: list[EpisodeJob] = []
    counts = {
        Source.EXPERT.value: config.experts,
        Source.NOVICE.value: config.novices,
        Source.SCRIPTED.value: config.scripted_failures,
        Source.RANDOM.value: config.randoms,
    }
    for task in config.tasks:
        spec = task_spec(task)
        if config.checkpoints:
            demos += [_job(config, task, DEMO, i) for i in range(config.bc_demos)]
        for source, n in counts.items():
            for i in range(n):
                mode = (
                    spec.failure_modes[i % len(spec.failure_modes)]
                    if source == Source.SCRIPTED.value
                    else None
                )
                jobs.append(_job(config, task, source, i, failure_mode=mode))
    return demos, jobs


def _job(config: GenerateConfig, task: str, source: str, index: int, **extra: Any) -> EpisodeJob:
    # Checkpoints share placements (stream "policy_checkpoint"), so N vs N+1 is a fair comparison.
    stream = "policy_checkpoint" if source.startswith("policy_checkpoint") else source
    return EpisodeJob(
        task=task,
        source=source,
        index=index,
        env_seed=job_seed(config.seed, task, stream, index),
        policy_seed=job_seed(config.seed, task, f"{source}:policy", index),
        **extra,
    )


def checkpoint_jobs(config: GenerateConfig, task: str, checkpoints: list[Any]) -> list[EpisodeJob]:
    """Pool jobs rolling out each BC checkpoint of `task`."""
    return [
        _job(
            config,
            task,
            checkpoint_source(ckpt.index),
            i,
            bc_weights=ckpt.weights,
            bc_info={
                "bc_checkpoint": ckpt.index,
                "bc_steps": ckpt.steps,
                "bc_train_loss": ckpt.train_loss,
            },
        )
        for ckpt in checkpoints
        for i in range(config.per_checkpoint)
    ]


@dataclass
class _Run:
    """State of one generation while its futures complete."""

    config: GenerateConfig
    progress: ProgressCallback
    total: int
    bc_dir: Path
    done: int = 0
    demos: dict[tuple[str, int], DemoResult] = field(default_factory=dict)
    rows: dict[tuple[str, str, int], dict[str, Any]] = field(default_factory=dict)


def generate_pool(
    config: GenerateConfig, out: Path, *, progress: ProgressCallback = no_progress
) -> Pool:
    """Generate a simulated Meta-World pool with every quality tier and ground truth.

    Args:
        config: What to generate (tasks, episodes per tier, frames, workers, seed).
        out: Pool folder to create or append to (atomically: all episodes or none): absent,
            empty or a pool (anything else is refused before any episode runs).
        progress: Called after each finished episode (BC demos included).

    Returns:
        The pool after the commit.

    Raises:
        InputError: An unknown or repeated task, `out` not a pool (nor absent or empty),
            or ids already in the pool at `out`.
        RuntimeError: Rendering failed (no OpenGL, or black frames).
    """
    if len(set(config.tasks)) != len(config.tasks):
        raise InputError("GenerateConfig", "tasks", f"repeated task in {list(config.tasks)}")
    demos, jobs = plan_jobs(config)
    n_ckpt = config.checkpoints * config.per_checkpoint * len(config.tasks)
    out = Path(out)
    with pool_transaction(out, config.pool, option="OUT") as tx:
        run = _Run(
            config,
            progress,
            len(demos) + len(jobs) + n_ckpt,
            tx.stage_folder(POLICIES, f"bc-s{config.seed}"),  # moved in by the commit
        )
        settings = WorkerSettings(
            max_steps=config.max_steps,
            settle_steps=config.settle_steps,
            image_size=config.image_size,
            cameras=config.cameras if config.frames else (),
            staging=tx.staging,
            pool=config.pool,
            seed=config.seed,
            gl_backend=gl_backend() if config.frames else os.environ.get("MUJOCO_GL", "egl"),
        )
        _execute(run, settings, demos, jobs)
        tx.add_rows(run.rows[key] for key in sorted(run.rows, key=_row_order(config)))
    return open_pool(out)


def _row_order(config: GenerateConfig) -> Any:
    tiers = [Source.EXPERT.value, Source.NOVICE.value, Source.SCRIPTED.value, Source.RANDOM.value]

    def key(k: tuple[str, str, int]) -> tuple[int, int, str, int]:
        task, source, index = k
        tier = tiers.index(source) if source in tiers else len(tiers)
        return config.tasks.index(task), tier, source, index

    return key


def _execute(
    run: _Run, settings: WorkerSettings, demos: list[EpisodeJob], jobs: list[EpisodeJob]
) -> None:
    n_workers = max(1, min(run.config.workers, len(demos) + len(jobs)))
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        n_workers, mp_context=context, initializer=init_worker, initargs=(settings,)
    ) as ex:
        pending = {ex.submit(run_job, job): job for job in demos + jobs}
        trained = not demos
        try:
            for job, result in _completed(pending):
                _collect(run, job, result)
                if not trained and len(run.demos) == len(demos):
                    trained = True
                    for job2 in _train_checkpoints(run):
                        pending[ex.submit(run_job, job2)] = job2
        except BaseException:
            ex.shutdown(wait=True, cancel_futures=True)
            raise


def _completed(pending: dict[Future[Any], EpisodeJob]) -> Iterator[tuple[EpisodeJob, Any]]:
    """Yield (job, result) as futures finish; `pending` may grow while this runs."""
    while pending:
        finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
        for future in finished:
            job = pending.pop(future)
            yield job, future.result()


def _collect(run: _Run, job: EpisodeJob, result: Any) -> None:
    if isinstance(result, DemoResult):
        run.demos[(job.task, job.index)] = result
    else:
        run.rows[(job.task, job.source, job.index)] = result
    run.done += 1
    run.progress(run.done, run.total)


def _train_checkpoints(run: _Run) -> list[EpisodeJob]:
    """Train one BC policy per task on its demos; save checkpoints; return their rollout jobs."""
    from robopref.sim.bc import save_checkpoints, train_bc

    config = run.config
    jobs: list[EpisodeJob] = []
    for task in config.tasks:
        episodes = [
            (run.demos[(task, i)].obs, run.demos[(task, i)].action) for i in range(config.bc_demos)
        ]
        checkpoints = train_bc(
            episodes,
            checkpoints=config.checkpoints,
            steps=config.bc_steps,
            seed=job_seed(config.seed, task, "bc_train", 0) % 2**31,
        )
        for ckpt in checkpoints:
            logger.info(
                "%s BC checkpoint %d: train %.4f val %s",
                task,
                ckpt.index,
                ckpt.train_loss,
                ckpt.val_loss,
            )
        save_checkpoints(checkpoints, run.bc_dir / task, task=task)
        jobs += checkpoint_jobs(config, task, checkpoints)
    return jobs

"""Rendering a whole pool: one job per trajectory, in processes or on a Ray cluster."""

from __future__ import annotations

import fcntl
import logging
import multiprocessing
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from robopref.errors import InputError
from robopref.pool.config import MetricsConfig
from robopref.pool.layout import read_trajectory_files
from robopref.pool.pool import MANIFEST, TRAJECTORIES, Pool, open_pool, set_manifest_column
from robopref.progress import ProgressCallback, no_progress
from robopref.render.clip import TMP_SUFFIX, ClipResult, ClipStatus, render_clip
from robopref.render.config import RenderConfig
from robopref.render.display_key import clip_display_id, ensure_display_key

logger = logging.getLogger(__name__)

CLIPS = "clips"
"""Folder of clips beside the manifest; `clip_path` values are relative to the pool root."""


@dataclass(frozen=True, kw_only=True)
class RenderJob:
    """One clip to render: everything a worker (process or Ray task) needs, as plain data."""

    pool_root: str
    """The pool folder (shared storage when on a cluster)."""
    trajectory_id: str
    """The trajectory."""
    camera: str
    """Camera to render."""
    config: RenderConfig
    """Clip settings."""
    metrics: MetricsConfig
    """The pool's metric thresholds (gripper hysteresis)."""
    burned_id: str
    """The clip's display id: the watermark's text (from the pool's display key)."""
    force: bool = False
    """Render even when an identical clip is there."""


@dataclass(frozen=True, kw_only=True)
class RenderReport:
    """What a render run did."""

    clips_dir: Path
    """Where the clips are."""
    rendered: tuple[str, ...]
    """Trajectory ids rendered in this run."""
    skipped: tuple[str, ...]
    """Trajectory ids whose clip was already up to date."""
    failed: tuple[tuple[str, str], ...]
    """(trajectory id, reason) of clips that could not be rendered."""
    bad_input: tuple[str, ...] = ()
    """The failed ones whose trajectory files are malformed (reason: file: field: message)."""

    def summary(self) -> str:
        """One line for the CLI."""
        return (
            f"clips in {self.clips_dir}: {len(self.rendered)} rendered, "
            f"{len(self.skipped)} unchanged, {len(self.failed)} failed"
        )


def render_job(job: RenderJob) -> ClipResult:
    """Render one clip; never raises, so one bad trajectory cannot stop a run."""
    try:
        traj = read_trajectory_files(Path(job.pool_root) / TRAJECTORIES / job.trajectory_id)
        clips_dir = Path(job.pool_root) / CLIPS
        return render_clip(
            traj, clips_dir, job.config, camera=job.camera, metrics=job.metrics,
            burned_id=job.burned_id, force=job.force,
        )  # fmt: skip
    except InputError as exc:  # a malformed trajectory: named, and the run goes on
        logger.warning("clip %s: %s", job.trajectory_id, exc)
        return ClipResult(
            trajectory_id=job.trajectory_id,
            status=ClipStatus.FAILED,
            error=str(exc),
            bad_input=True,
        )
    except Exception as exc:  # reported per clip; the run goes on
        logger.warning("clip %s failed: %s", job.trajectory_id, exc)
        return ClipResult(
            trajectory_id=job.trajectory_id,
            status=ClipStatus.FAILED,
            error=f"{type(exc).__name__}: {exc}",
        )


def render_pool(
    pool: str | Path,
    config: RenderConfig,
    *,
    progress: ProgressCallback = no_progress,
    force: bool = False,
) -> RenderReport:
    """Render the review clip of every trajectory in a pool and fill `clip_path`.

    Clips go to `POOL/clips/`; a clip whose sidecar hash matches its inputs and settings is
    skipped (unless `force`). Each clip's watermark shows its display id under the pool's
    display key (`POOL/clips/display-key.json`, created on the first run). Failures are
    reported per trajectory and leave no partial file.

    Args:
        pool: The pool folder.
        config: Clip settings, worker count and optional Ray address.
        progress: Called as `(done, total)` after each clip.
        force: Re-render every clip, unchanged ones too (the display key is kept).

    Raises:
        InputError: The pool is unreadable or has no camera frames, or its display key
            file is malformed.
    """
    opened = open_pool(pool)
    camera = config.camera or opened.primary_camera
    if camera is None:
        raise InputError(
            opened.root / MANIFEST,
            "cameras",
            "pool has no camera frames; generate or ingest it with frames",
        )
    clips_dir = opened.root / CLIPS
    with _clips_lock(clips_dir):
        key = ensure_display_key(clips_dir)  # once per run; jobs carry the ids as data
        jobs = [
            RenderJob(
                pool_root=str(opened.root),
                trajectory_id=str(tid),
                camera=camera,
                config=config,
                metrics=opened.config.metrics,
                burned_id=clip_display_id(key, str(tid)),
                force=force,
            )
            for tid in opened.manifest["trajectory_id"]
        ]
        results = list(_dispatch(jobs, config, progress))
    return _report(opened, clips_dir, results)


def _report(pool: Pool, clips_dir: Path, results: list[ClipResult]) -> RenderReport:
    """Record the clip paths of the clips now there, and sum the run up."""
    by_status = {s: tuple(r.trajectory_id for r in results if r.status == s) for s in ClipStatus}
    _record_clip_paths(pool, by_status[ClipStatus.RENDERED] + by_status[ClipStatus.SKIPPED])
    return RenderReport(
        clips_dir=clips_dir,
        rendered=by_status[ClipStatus.RENDERED],
        skipped=by_status[ClipStatus.SKIPPED],
        failed=tuple(
            (r.trajectory_id, r.error or "") for r in results if r.status == ClipStatus.FAILED
        ),
        bad_input=tuple(r.trajectory_id for r in results if r.bad_input),
    )


def _record_clip_paths(pool: Pool, trajectory_ids: tuple[str, ...]) -> None:
    """Set `clip_path` of these trajectories where it is not already right."""
    current = dict(zip(pool.manifest["trajectory_id"], pool.manifest["clip_path"], strict=True))
    wanted = {tid: f"{CLIPS}/{tid}.mp4" for tid in trajectory_ids}
    changed = {tid: path for tid, path in wanted.items() if current.get(tid) != path}
    if changed:
        set_manifest_column(pool, "clip_path", changed)


def _dispatch(
    jobs: list[RenderJob], config: RenderConfig, progress: ProgressCallback
) -> Iterator[ClipResult]:
    total = len(jobs)
    progress(0, total)
    if config.ray_address is not None:
        from robopref.render.ray_backend import run_on_ray

        results: Iterable[ClipResult] = run_on_ray(jobs, config.ray_address)
    elif _worker_count(config, total) <= 1:
        results = map(render_job, jobs)
    else:
        results = _run_in_processes(jobs, _worker_count(config, total))
    for done, result in enumerate(results, start=1):
        progress(done, total)
        yield result


def _worker_count(config: RenderConfig, n_jobs: int) -> int:
    workers = config.workers or os.cpu_count() or 1
    return max(1, min(workers, n_jobs))


def _run_in_processes(jobs: list[RenderJob], workers: int) -> Iterator[ClipResult]:
    # spawn, not fork: FFmpeg and x264 keep threads that a forked child must not inherit.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as executor:
        futures = [executor.submit(render_job, job) for job in jobs]
        for future in as_completed(futures):
            yield future.result()


@contextmanager
def _clips_lock(clips_dir: Path) -> Iterator[None]:
    """Hold `clips/.lock` for a run (runs on one pool take turns) and sweep stale temp files."""
    clips_dir.mkdir(parents=True, exist_ok=True)
    with open(clips_dir / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            for stale in clips_dir.glob(f".*{TMP_SUFFIX}"):  # left by a killed run
                stale.unlink(missing_ok=True)
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)

"""Embedding a pool's clips as Ray tasks: the same in-process embedder, fanned out.

`embed_pool` calls `embed_on_ray` when asked for workers or a cluster. Each task embeds a
consecutive group of clips (about a quarter of a worker's share, whole clips) and writes the
entries itself; the driver only counts frames for the progress bar. A `BackboneRef` is loaded
by each worker process once (from the same weights path, checked against the driver's digest);
a loaded encoder is put in Ray's object store once and shared by the tasks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from robopref.errors import InputError
from robopref.ray_session import ray_session
from robopref.vision.cache import EmbeddingCache, EmbeddingKey, FrameEncoder
from robopref.vision.embed import BackboneRef, ClipJob, embed_jobs, encoder_key, resolve_device

__all__ = ["embed_on_ray"]

_LOADED: dict[BackboneRef, FrameEncoder] = {}
"""Backbones a Ray worker process loaded, reused by its later tasks."""


def _task_groups(jobs: Sequence[ClipJob], workers: int) -> list[list[ClipJob]]:
    """Consecutive groups of about total / (4 · workers) frames (whole clips)."""
    target = math.ceil(sum(job.n_frames for job in jobs) / (4 * max(workers, 1)))
    groups: list[list[ClipJob]] = [[]]
    size = 0
    for job in jobs:
        if groups[-1] and size >= target:
            groups.append([])
            size = 0
        groups[-1].append(job)
        size += job.n_frames
    return [group for group in groups if group]


def _embed_task(
    backbone: FrameEncoder | BackboneRef,
    keys: dict[str, EmbeddingKey],
    root: str,
    jobs: list[ClipJob],
    batch_size: int,
    device: str,
) -> int:
    """One Ray task: embed `jobs` into the cache at `root`; returns the frames embedded."""
    if isinstance(backbone, BackboneRef):
        if backbone not in _LOADED:
            _LOADED[backbone] = backbone.load()
        encoder = _LOADED[backbone]
    else:
        encoder = backbone
    caches = {camera: EmbeddingCache(key, Path(root)) for camera, key in keys.items()}
    for camera, key in keys.items():
        if encoder_key(encoder, camera, key.views, key.shift) != key:
            raise RuntimeError(
                f"the backbone loaded on this node ({encoder.weights_digest}) is not the one"
                f" the driver loaded ({key.weights_digest}): is the weights file the same?"
            )
    embed_jobs(
        encoder,
        jobs,
        caches,
        device=resolve_device(device),
        batch_size=batch_size,
        on_clip=lambda job, features: None,
    )
    return sum(job.n_frames for job in jobs)


def embed_on_ray(
    jobs: Sequence[ClipJob],
    backbone: FrameEncoder | BackboneRef,
    caches: dict[str, EmbeddingCache],
    *,
    root: Path,
    batch_size: int,
    device: str,
    address: str | None,
    workers: int,
    advance: Callable[[int], None],
) -> int:
    """Embed `jobs` as Ray tasks (one CPU each, a GPU share where the cluster has GPUs).

    A Ray session started here is shut down at the end; one the caller started is left
    running. Every node must see the pool and the cache root at the same paths.

    Returns:
        The number of tasks run.
    """
    import ray

    with ray_session(address or "local", num_cpus=workers if address is None else None):
        gpus = float(ray.cluster_resources().get("GPU", 0.0))  # type: ignore[no-untyped-call]
        if device == "cuda" and not gpus:
            raise InputError("--device", "device", "cuda asked for, but the Ray cluster has no GPU")
        share = 0.0 if device == "cpu" or not gpus else min(1.0, gpus / workers)
        shipped: Any = backbone if isinstance(backbone, BackboneRef) else ray.put(backbone)
        task = ray.remote(num_cpus=1, num_gpus=share, max_retries=1)(_embed_task)
        keys = {camera: cache.key for camera, cache in caches.items()}
        pending = {
            task.remote(shipped, keys, str(root), group, batch_size, device): group
            for group in _task_groups(jobs, workers)
        }
        count = len(pending)
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            advance(int(ray.get(ready[0])))
            del pending[ready[0]]
        return count

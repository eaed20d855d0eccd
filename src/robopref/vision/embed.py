"""Filling the embedding cache: every frame of a pool's clips through a frozen backbone.

`embed_pool` embeds what the cache lacks, batching frames across trajectories, on CUDA when
present, in this process or fanned out over Ray tasks; `trajectory_features` returns the
features of chosen trajectories, embedding only the clips that are missing.

Views: view 0 of a frame is the frame itself; views 1.. are random shifts of up to ±`shift`
pixels (border replicated, as `robopref.reward.augment.random_shift` does), one shift per view
shared by every frame of the clip and drawn from the clip's digest and the view index, so a
re-run computes the same features.

How Ray tasks get the backbone: pass a `BackboneRef` (what the CLI does) and every task loads
it with `load_backbone` from the name and weights file (the file must be at the same path on
every node; each worker process loads it once); pass a loaded encoder and it is serialised
once into Ray's object store and shared by the tasks, which works for any encoder, including
ones outside the registry.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np
import torch

from robopref.errors import InputError
from robopref.pool.layout import META, camera_files, read_meta
from robopref.pool.manifest import MANIFEST
from robopref.pool.pool import Pool
from robopref.progress import ProgressCallback, no_progress
from robopref.video import iter_video, read_video
from robopref.vision.cache import EmbeddingCache, EmbeddingKey, FrameEncoder, clip_digest
from robopref.vision.cache import default_root as default_cache_root

if TYPE_CHECKING:
    from robopref.vision.backbones import Backbone

__all__ = [
    "DEVICES",
    "BackboneRef",
    "ClipJob",
    "EmbedReport",
    "check_cameras",
    "clip_frames",
    "clip_jobs",
    "embed_jobs",
    "embed_pool",
    "encoder_key",
    "pool_cameras",
    "resolve_device",
    "shifted_views",
    "trajectory_features",
    "view_offsets",
]

logger = logging.getLogger(__name__)

DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class BackboneRef:
    """A backbone by name and weights file, loadable anywhere (each Ray task loads its own).

    Attributes:
        name: Registry name (`robopref.vision.backbones.BACKBONES`).
        weights: Weights file; None for a backbone whose weights are bundled.
        input_size: Side the frames are resized to; None for the backbone's default.
        allow_random: Random weights when there is no file (tests only).
    """

    name: str
    weights: Path | None = None
    input_size: int | None = None
    allow_random: bool = False

    def load(self) -> Backbone:
        """The backbone, frozen, in eval mode (`load_backbone`)."""
        from robopref.vision.backbones import load_backbone

        return load_backbone(
            self.name, self.weights, input_size=self.input_size, allow_random=self.allow_random
        )


@dataclass(frozen=True)
class ClipJob:
    """One camera clip of one trajectory, as the cache and the embedder see it."""

    trajectory_id: str
    camera: str
    path: Path
    """The MP4 (checked to lie inside the trajectory's folder)."""
    digest: str
    """SHA-256 (hex) of the MP4: the cache entry's name."""
    n_frames: int
    height: int
    """Stored frame height (the MP4 may be padded to an even size)."""
    width: int


@dataclass(frozen=True, kw_only=True)
class EmbedReport:
    """What `embed_pool` did.

    Attributes:
        trajectories: Trajectories with at least one clip embedded or found cached.
        clips: (trajectory, camera) clips covered.
        frames: Frames of those clips (each embedded `views` times).
        embedded: Clips embedded by this run.
        cached: Clips found in the cache (not embedded again).
        embedded_frames: Frames of the clips embedded by this run.
        seconds: Wall time of the run, loading the backbone and reading the clips included.
        embed_seconds: Wall time spent embedding (decoding, shifting, the forwards, writing).
        device: Where the backbone ran (`cpu`, `cuda`, or `ray:<n> tasks`).
        folders: The cache folders filled, one per camera.
    """

    trajectories: int
    clips: int
    frames: int
    embedded: int
    cached: int
    embedded_frames: int
    seconds: float
    embed_seconds: float
    device: str
    folders: tuple[Path, ...] = field(default=())

    @property
    def frames_per_second(self) -> float:
        """Frames embedded per second of embedding time (0 when nothing was embedded)."""
        if not self.embedded_frames or not self.embed_seconds:
            return 0.0
        return self.embedded_frames / self.embed_seconds


def resolve_device(device: str) -> str:
    """`auto` → `cuda` when CUDA is available, else `cpu`; `cpu` and `cuda` as they are.

    Raises:
        InputError: An unknown device, or `cuda` without CUDA.
    """
    if device not in DEVICES:
        raise InputError("--device", "device", f"{device!r} is not one of {', '.join(DEVICES)}")
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise InputError("--device", "device", "cuda asked for, but CUDA is not available here")
    return device


def view_offsets(digest: str, views: int, shift: int) -> list[tuple[int, int]]:
    """(dy, dx) pixel shifts of views 0..views-1 of a clip: (0, 0), then random in ±shift.

    Drawn from the clip's digest and the view index alone, so the same clip always gets
    the same shifts.

    >>> view_offsets("ab", 3, 4)[0]
    (0, 0)
    >>> view_offsets("ab", 3, 4) == view_offsets("ab", 3, 4)
    True
    """
    offsets = [(0, 0)]
    for view in range(1, views):
        seed = hashlib.sha256(f"{digest}|view {view}".encode()).digest()[:8]
        rng = np.random.default_rng(int.from_bytes(seed, "big"))
        dy, dx = (int(v) - shift for v in rng.integers(0, 2 * shift + 1, size=2))
        offsets.append((dy, dx))
    return offsets


def shifted_views(frames: np.ndarray, offsets: Sequence[tuple[int, int]]) -> np.ndarray:
    """(T, H, W, 3) frames → (T, V, H, W, 3): each frame shifted by each (dy, dx).

    A shift by (dy, dx) is replicate-padding by |shift| and cropping back at the offset,
    so `out[t, v, i, j] = frames[t, clip(i + dy), clip(j + dx)]`.

    >>> f = np.arange(9, dtype=np.uint8).reshape(1, 3, 3, 1)
    >>> shifted_views(f, [(0, 0), (1, -1)])[0, 1, :, :, 0].tolist()
    [[3, 3, 4], [6, 6, 7], [6, 6, 7]]
    """
    t, h, w = frames.shape[:3]
    out = np.empty((t, len(offsets), *frames.shape[1:]), frames.dtype)
    for v, (dy, dx) in enumerate(offsets):
        rows = np.clip(np.arange(h) + dy, 0, h - 1)
        cols = np.clip(np.arange(w) + dx, 0, w - 1)
        out[:, v] = frames[:, rows][:, :, cols] if (dy or dx) else frames
    return out


def pool_cameras(pool: Pool) -> list[str]:
    """Every camera some trajectory of the pool has, in first-seen order."""
    return list(dict.fromkeys(c for row in pool.manifest["cameras"] for c in row))


def check_cameras(pool: Pool, cameras: Sequence[str] | None) -> list[str]:
    """The cameras to embed: `cameras` checked against the pool's, or all of the pool's.

    Raises:
        InputError: A camera no trajectory has (naming `--camera`), or a pool without frames.
    """
    known = pool_cameras(pool)
    if not known:
        raise InputError(pool.root / MANIFEST, "cameras", "no trajectory has camera frames")
    chosen = list(dict.fromkeys(cameras)) if cameras else known
    unknown = [c for c in chosen if c not in known]
    if unknown:
        raise InputError(
            "--camera", "camera", f"{unknown[0]!r} is no camera of pool {pool.root} (has {known})"
        )
    return chosen


def _check_ids(pool: Pool, ids: Sequence[str] | None) -> list[str]:
    if ids is None:
        return list(pool.manifest["trajectory_id"])
    unknown = [tid for tid in ids if tid not in pool]
    if unknown:
        raise InputError(
            pool.root / MANIFEST, "trajectory_id", f"no such trajectory {unknown[0]!r}"
        )
    return list(ids)


def clip_jobs(
    pool: Pool, ids: Sequence[str], cameras: Sequence[str], *, required: bool = False
) -> list[ClipJob]:
    """The clips of `ids` × `cameras` (trajectories without a camera skipped unless `required`).

    Paths come from each trajectory's meta.json, checked to lie inside its folder.

    Raises:
        InputError: A meta.json that is missing or malformed, a clip that cannot be read, or
            (with `required`) a trajectory without one of the cameras.
    """
    cameras_of = dict(zip(pool.manifest["trajectory_id"], pool.manifest["cameras"], strict=True))
    jobs = []
    for tid in ids:
        wanted = [c for c in cameras if c in cameras_of[tid]]
        if required and len(wanted) < len(cameras):
            missing = next(c for c in cameras if c not in wanted)
            raise InputError(
                f"trajectory {tid!r}", "camera", f"no camera {missing!r} (has {cameras_of[tid]})"
            )
        if not wanted:
            continue
        directory = pool.trajectory_dir(tid)
        meta_path = directory / META
        files = camera_files(read_meta(meta_path)["cameras"], directory, meta_path)
        for camera in wanted:
            if camera not in files:
                raise InputError(
                    meta_path, "cameras", f"no camera {camera!r} (the manifest has it)"
                )
            info = files[camera]
            jobs.append(
                ClipJob(
                    tid,
                    camera,
                    info.path,
                    clip_digest(info.path),
                    info.n_frames,
                    info.height,
                    info.width,
                )
            )
    return jobs


def clip_frames(job: ClipJob) -> np.ndarray:
    """(T, H, W, 3) uint8 frames of a clip at their stored size.

    Raises:
        InputError: The clip cannot be decoded or has another frame count than meta.json says.
    """
    _, frames = read_video(job.path)
    if len(frames) != job.n_frames:
        raise InputError(job.path, "n_frames", f"decoded {len(frames)}, expected {job.n_frames}")
    return np.ascontiguousarray(frames[:, : job.height, : job.width])


def _encoder_of(backbone: FrameEncoder | BackboneRef) -> FrameEncoder:
    """The encoder itself, or the one a `BackboneRef` names, loaded."""
    return backbone.load() if isinstance(backbone, BackboneRef) else backbone


def encoder_key(encoder: FrameEncoder, camera: str, views: int, shift: int) -> EmbeddingKey:
    """The cache key of `encoder`'s features of `camera`."""
    return EmbeddingKey(
        backbone=encoder.spec.name,
        weights_digest=encoder.weights_digest,
        input_size=encoder.input_size,
        camera=camera,
        views=views,
        shift=shift,
    )


class _Batches:
    """Packs the views of several clips' frames into forwards of up to `batch_size` images.

    A forward never mixes frame sizes (clips of other sizes start a new batch); `done(slot,
    features)` is called with a clip's (T, views, F) float16 features once all are computed.
    """

    def __init__(
        self,
        encoder: FrameEncoder,
        *,
        device: str,
        batch_size: int,
        views: int,
        done: Callable[[int, np.ndarray], None],
    ) -> None:
        self.encoder, self.device, self.batch_size, self.views = encoder, device, batch_size, views
        self.done = done
        self.feature_dim = int(encoder.feature_dim)
        self._chunks: list[tuple[int, int, np.ndarray]] = []  # (slot, first image, images)
        self._count = 0
        self._out: dict[int, np.ndarray] = {}
        self._left: dict[int, int] = {}
        self._fed: dict[int, int] = {}

    def begin(self, slot: int, n_images: int) -> None:
        """Expect `n_images` images (T·views, t-major, then view) of one clip."""
        self._out[slot] = np.empty((n_images, self.feature_dim), np.float16)
        self._left[slot] = n_images
        self._fed[slot] = 0

    def feed(self, slot: int, images: np.ndarray) -> None:
        """Queue the clip's next (N, H, W, 3) images; full batches run at once."""
        if self._chunks and self._chunks[0][2].shape[1:] != images.shape[1:]:
            self.flush()
        done = 0
        while done < len(images):
            take = min(self.batch_size - self._count, len(images) - done)
            self._chunks.append((slot, self._fed[slot], images[done : done + take]))
            self._fed[slot] += take
            self._count += take
            done += take
            if self._count >= self.batch_size:
                self.flush()

    def flush(self) -> None:
        """Run the queued images through the encoder and hand out finished clips."""
        if not self._chunks:
            return
        batch = torch.from_numpy(np.concatenate([images for _, _, images in self._chunks]))
        with torch.inference_mode():
            features = self.encoder(batch.to(self.device)).float().cpu().numpy()
        if features.shape != (self._count, self.feature_dim):
            raise RuntimeError(
                f"encoder returned {features.shape} for {self._count} frames,"
                f" expected ({self._count}, {self.feature_dim})"
            )
        offset = 0
        chunks, self._chunks, self._count = self._chunks, [], 0
        for slot, start, images in chunks:
            n = len(images)
            self._out[slot][start : start + n] = features[offset : offset + n]
            offset += n
            self._left[slot] -= n
            if self._left[slot] == 0:
                self._finish(slot)

    def _finish(self, slot: int) -> None:
        features = self._out.pop(slot)
        del self._left[slot], self._fed[slot]
        self.done(slot, features.reshape(-1, self.views, self.feature_dim))


def _clip_chunks(job: ClipJob, chunk: int) -> Iterator[np.ndarray]:
    """A clip's frames at their stored size, `chunk` at a time, decoded as they are needed.

    Raises:
        InputError: The clip cannot be decoded or has another frame count than meta.json says.
    """
    if job.n_frames < 1:
        raise InputError(job.path, "n_frames", "the clip has no frames to embed")
    buffer: list[np.ndarray] = []
    count = 0
    for _, frame in iter_video(job.path):
        count += 1
        if count > job.n_frames:
            raise InputError(job.path, "n_frames", f"more than the {job.n_frames} frames expected")
        buffer.append(frame[: job.height, : job.width])
        if len(buffer) == chunk or count == job.n_frames:
            yield np.stack(buffer)
            buffer = []
    if count != job.n_frames:
        raise InputError(job.path, "n_frames", f"decoded {count}, expected {job.n_frames}")


_END = object()


def _decoded(jobs: Sequence[ClipJob], chunk: int) -> Iterator[tuple[int, np.ndarray]]:
    """(job index, next ≤ `chunk` frames) of every job in order, decoded in a thread ahead.

    At most two chunks wait at a time, so memory stays bounded whatever the clip lengths;
    a decoding error is raised here, in the caller's thread.
    """
    ready: queue.Queue[object] = queue.Queue(maxsize=2)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for index, job in enumerate(jobs):
                for frames in _clip_chunks(job, chunk):
                    if not put((index, frames)):
                        return
            put(_END)
        except BaseException as exc:  # handed to the consumer, raised there
            put(exc)

    thread = threading.Thread(target=produce, name="embed-decode", daemon=True)
    thread.start()
    try:
        while (item := ready.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield cast(tuple[int, np.ndarray], item)
    finally:
        stop.set()
        thread.join()


def embed_jobs(
    encoder: FrameEncoder,
    jobs: Sequence[ClipJob],
    caches: dict[str, EmbeddingCache],
    *,
    device: str,
    batch_size: int,
    on_clip: Callable[[ClipJob, np.ndarray], None],
) -> None:
    """Embed `jobs` in this process, storing each clip's features as soon as they are done."""
    if not jobs:
        return
    views = next(iter(caches.values())).key.views
    shift = next(iter(caches.values())).key.shift

    def done(slot: int, features: np.ndarray) -> None:
        job = jobs[slot]
        caches[job.camera].put_digest(job.digest, features)
        on_clip(job, features)

    with _placed(encoder, device):
        batches = _Batches(encoder, device=device, batch_size=batch_size, views=views, done=done)
        offsets: list[tuple[int, int]] = []
        current = -1
        for slot, frames in _decoded(jobs, max(1, batch_size // views)):
            if slot != current:
                current, offsets = slot, view_offsets(jobs[slot].digest, views, shift)
                batches.begin(slot, jobs[slot].n_frames * views)
            batches.feed(slot, shifted_views(frames, offsets).reshape(-1, *frames.shape[1:]))
        batches.flush()


@contextmanager
def _placed(encoder: FrameEncoder, device: str) -> Iterator[None]:
    """An nn.Module encoder in eval mode on `device` meanwhile, then back as it was."""
    if not isinstance(encoder, torch.nn.Module):
        yield
        return
    tensors = [*encoder.parameters(), *encoder.buffers()]
    before = tensors[0].device if tensors else torch.device("cpu")
    training = encoder.training
    encoder.eval().to(device)
    try:
        yield
    finally:
        encoder.to(before).train(training)


def _check_sizes(views: int, shift: int, batch_size: int, workers: int) -> None:
    for option, value, low in (
        ("--views", views, 1),
        ("--shift", shift, 0),
        ("--batch-size", batch_size, 1),
        ("--workers", workers, 1),
    ):
        if type(value) is not int or value < low:
            raise InputError(option, option[2:], f"must be an integer ≥ {low}, got {value!r}")


def _cached(cache: EmbeddingCache, job: ClipJob) -> np.ndarray | None:
    features = cache.get_digest(job.digest)
    if features is not None and len(features) != job.n_frames:
        logger.warning(
            "embedding cache entry %s has %d frames, the clip %d; embedding again",
            cache.entry_path(job.digest),
            len(features),
            job.n_frames,
        )
        return None
    return features


def embed_pool(
    pool: Pool,
    backbone: FrameEncoder | BackboneRef,
    *,
    cameras: Sequence[str] | None = None,
    views: int = 1,
    shift: int = 4,
    batch_size: int = 256,
    device: str = "auto",
    ray_address: str | None = None,
    workers: int = 1,
    ids: Sequence[str] | None = None,
    progress: ProgressCallback = no_progress,
    root: Path | None = None,
) -> EmbedReport:
    """Fill the embedding cache for every (trajectory, camera) clip; cached clips are skipped.

    Args:
        pool: The pool.
        backbone: A loaded encoder, or a `BackboneRef` (loaded here, and by each Ray task).
        cameras: Cameras to embed; None for every camera of the pool.
        views: Views per frame (view 0 the frame, 1.. shifted).
        shift: Largest shift in pixels of views 1.., at the stored frame size.
        batch_size: Images (frames × views) per forward; a batch spans trajectories.
        device: `auto` (CUDA when available), `cpu` or `cuda`.
        ray_address: Run Ray tasks on this cluster (`auto`, `ray://host:10001`, `local`).
        workers: Above 1 without `ray_address`: a local Ray instance of this many CPUs.
        ids: Trajectories to embed; None for all.
        progress: Called with (frames done, frames in all) as clips finish (cached ones first).
        root: Cache root; None for `default_root(pool)`.

    Returns:
        What was embedded and what was already cached.

    Raises:
        InputError: An unknown camera or trajectory, a bad option, or a clip that cannot be
            read; checked before anything is written.
    """
    started = time.perf_counter()
    _check_sizes(views, shift, batch_size, workers)
    chosen = check_cameras(pool, cameras)
    ids = _check_ids(pool, ids)
    use_ray = workers > 1 or ray_address is not None
    if use_ray and device not in DEVICES:
        resolve_device(device)  # raises, naming --device
    resolved = device if use_ray else resolve_device(device)  # Ray: the cluster's GPUs count
    encoder = _encoder_of(backbone)
    root = default_cache_root(pool) if root is None else root
    caches = {c: EmbeddingCache(encoder_key(encoder, c, views, shift), root) for c in chosen}
    jobs = clip_jobs(pool, ids, chosen)
    total = sum(job.n_frames for job in jobs)
    missing, done_frames = [], 0
    for job in jobs:
        if _cached(caches[job.camera], job) is None:
            missing.append(job)
        else:
            done_frames += job.n_frames
    progress(done_frames, total)
    unique = list({(job.camera, job.digest): job for job in missing}.values())

    def advance(frames: int) -> None:
        nonlocal done_frames
        done_frames += frames
        progress(done_frames, total)

    embedding = time.perf_counter()
    if use_ray and unique:
        from robopref.vision.embed_ray import embed_on_ray

        tasks = embed_on_ray(
            unique,
            backbone,
            caches,
            root=root,
            batch_size=batch_size,
            device=resolved,
            address=ray_address,
            workers=workers,
            advance=advance,
        )
        where = f"ray:{tasks} tasks"
    else:
        embed_jobs(
            encoder,
            unique,
            caches,
            device=resolved,
            batch_size=batch_size,
            on_clip=lambda job, _: advance(job.n_frames),
        )
        where = resolved
    if len(unique) < len(missing):  # clips identical to one just embedded
        advance(sum(job.n_frames for job in missing) - sum(job.n_frames for job in unique))
    return EmbedReport(
        trajectories=len({job.trajectory_id for job in jobs}),
        clips=len(jobs),
        frames=total,
        embedded=len(missing),
        cached=len(jobs) - len(missing),
        embedded_frames=sum(job.n_frames for job in missing),
        seconds=time.perf_counter() - started,
        embed_seconds=time.perf_counter() - embedding,
        device=where,
        folders=tuple(cache.folder for cache in caches.values()),
    )


def trajectory_features(
    pool: Pool,
    backbone: FrameEncoder | BackboneRef,
    ids: Sequence[str],
    *,
    camera: str,
    views: int = 1,
    shift: int = 4,
    root: Path | None = None,
    device: str = "auto",
    batch_size: int = 256,
    progress: ProgressCallback = no_progress,
) -> list[np.ndarray]:
    """(T_i, views, F) float16 features of each trajectory's clip, embedding what is missing.

    Args:
        pool: The pool.
        backbone: A loaded encoder or a `BackboneRef`.
        ids: Trajectories, in the order wanted (repeats allowed).
        camera: The camera.
        views: Views per frame.
        shift: Largest shift of views 1.. in pixels.
        root: Cache root; None for `default_root(pool)`.
        device: `auto`, `cpu` or `cuda` (for the clips that must be embedded).
        batch_size: Images per forward.
        progress: Called with (frames done, frames in all).

    Raises:
        InputError: An unknown trajectory, a trajectory without `camera`, a bad option.
    """
    _check_sizes(views, shift, batch_size, 1)
    check_cameras(pool, [camera])
    ids = _check_ids(pool, ids)
    encoder = _encoder_of(backbone)
    root = default_cache_root(pool) if root is None else root
    cache = EmbeddingCache(encoder_key(encoder, camera, views, shift), root)
    jobs = clip_jobs(pool, list(dict.fromkeys(ids)), [camera], required=True)
    found: dict[str, np.ndarray] = {}
    for job in jobs:
        features = _cached(cache, job)
        if features is not None:
            found[job.digest] = features
    total = sum(job.n_frames for job in jobs)
    done_frames = sum(job.n_frames for job in jobs if job.digest in found)
    progress(done_frames, total)
    unique = list({job.digest: job for job in jobs if job.digest not in found}.values())

    def keep(job: ClipJob, features: np.ndarray) -> None:
        nonlocal done_frames
        found[job.digest] = features
        done_frames += job.n_frames
        progress(done_frames, total)

    if unique:
        embed_jobs(
            encoder,
            unique,
            {camera: cache},
            device=resolve_device(device),
            batch_size=batch_size,
            on_clip=keep,
        )
    progress(total, total)
    by_id = {job.trajectory_id: found[job.digest] for job in jobs}
    return [by_id[tid] for tid in ids]

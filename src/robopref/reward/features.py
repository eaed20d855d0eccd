"""Model inputs from trajectories: fixed-length step subsampling, resized frames, frame cache.

Every trajectory becomes `n_steps` evenly spaced steps (nearest step index), so trajectories of
any length T ≥ 2 share one shape and need no padding or mask:

- state encoders read `steps`: (n_steps, S + A + 1) float32, state, action and elapsed seconds
  (`EncoderConfig.time_feature`; without it S + A);
- image encoders read `frames`: (n_steps, image_size, image_size, 3) uint8 RGB in 0–255,
  resized with antialiased bilinear interpolation.

Decoded, subsampled and resized frames are cached as one `.npy` per trajectory under
`CACHE/<key>/`, where the key hashes the pool folder, camera, n_steps and image_size.
"""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F

from robopref.errors import InputError
from robopref.pool.pool import Pool
from robopref.pool.trajectory import Trajectory
from robopref.progress import ProgressCallback, no_progress
from robopref.reward.config import EncoderConfig
from robopref.reward.language import TaskEmbedder

if TYPE_CHECKING:
    from robopref.vision import Backbone

logger = logging.getLogger(__name__)


def subsample_indices(n_total: int, n_steps: int) -> np.ndarray:
    """Evenly spaced step indices (nearest step), first and last included.

    >>> subsample_indices(5, 3).tolist()
    [0, 2, 4]
    >>> subsample_indices(2, 4).tolist()
    [0, 0, 1, 1]
    """
    return np.rint(np.linspace(0, n_total - 1, n_steps)).astype(np.int64)


def _segment_sums(per_step: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """(n_steps, F): sums of `per_step` (T, F) rows over each segment (idx[k−1], idx[k]].

    Segment 0 is empty (the first sampled step has no past), so its row is zero.

    >>> _segment_sums(np.arange(5.0)[:, None], np.array([0, 2, 4]))[:, 0].tolist()
    [0.0, 3.0, 7.0]
    """
    cumulative = np.concatenate([np.zeros((1, per_step.shape[1])), np.cumsum(per_step, axis=0)])
    ends = cumulative[idx + 1]
    starts = cumulative[np.concatenate([idx[:1], idx[:-1]]) + 1]
    out: np.ndarray = ends - starts
    return out


def motion_columns(
    state: np.ndarray, action: np.ndarray, times_s: np.ndarray, idx: np.ndarray
) -> np.ndarray:
    """(n_steps, 2·S + A) per-segment motion statistics at full control rate.

    Subsampling keeps every `T / n_steps`-th step and so drops what happens between samples:
    how far the arm really travelled, a jerky correction, a twitching gripper. For each segment
    (idx[k−1], idx[k]] this returns, per dimension, the distance travelled Σ|Δstate|, the
    log RMS jerk log(1 + rms(Δ³state / dt³)), and the mean action change mean|Δaction| — the
    ingredients of path efficiency and smoothness, computed from state and action alone.
    """
    n = len(state)
    dt = float(np.median(np.diff(times_s))) if n > 1 else 1.0
    dt = dt if dt > 0 else 1.0
    travel = np.zeros_like(state, dtype=np.float64)
    travel[1:] = np.abs(np.diff(state, axis=0))
    jerk_sq = np.zeros_like(state, dtype=np.float64)
    if n > 3:
        jerk_sq[3:] = (np.diff(state.astype(np.float64), n=3, axis=0) / dt**3) ** 2
    change = np.zeros_like(action, dtype=np.float64)
    change[1:] = np.abs(np.diff(action, axis=0))
    ones = np.ones((n, 1))
    counts = np.maximum(_segment_sums(ones, idx), 1.0)
    jerk = np.log1p(np.sqrt(_segment_sums(jerk_sq, idx) / counts))
    return np.concatenate(
        [_segment_sums(travel, idx), jerk, _segment_sums(change, idx) / counts], axis=1
    )


MOTION_TEXT = (
    ", then per segment since the previous sampled step: distance travelled Σ|Δstate| "
    "(S columns), log(1 + RMS jerk of state) (S columns) and mean |Δaction| (A columns)"
)
"""How the motion columns read in model cards and ONNX input descriptions."""


def step_array(
    traj: Trajectory, n_steps: int, *, time_feature: bool = True, motion: bool = False
) -> np.ndarray:
    """(n_steps, S + A [+ 1] [+ 2·S + A]) float32 at the sampled steps.

    Columns: state, action, elapsed seconds (`time_feature`) and the segment motion statistics
    (`motion`, see motion_columns).
    """
    idx = subsample_indices(traj.n_steps, n_steps)
    columns = [traj.state[idx], traj.action[idx]]
    if time_feature:
        columns.append((traj.times_s[idx] - traj.times_s[0])[:, None])
    if motion:
        columns.append(motion_columns(traj.state, traj.action, traj.times_s, idx))
    return np.concatenate(columns, axis=1).astype(np.float32)


def resize_frames(frames: np.ndarray, image_size: int) -> np.ndarray:
    """(T, H, W, 3) uint8 → (T, image_size, image_size, 3) uint8, antialiased bilinear."""
    if frames.shape[1] == image_size and frames.shape[2] == image_size:
        return np.ascontiguousarray(frames)
    x = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2).float()
    y = F.interpolate(x, size=(image_size, image_size), mode="bilinear", antialias=True)
    return y.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()


def frame_array(traj: Trajectory, camera: str, n_steps: int, image_size: int) -> np.ndarray:
    """(n_steps, image_size, image_size, 3) uint8 frames of `camera` at the subsampled steps.

    Raises:
        InputError: The trajectory has no frames for `camera`.
    """
    if camera not in traj.frames:
        raise InputError(
            f"trajectory {traj.trajectory_id!r}",
            "frames",
            f"no camera {camera!r} (has {list(traj.frames)}); image encoders need frames",
        )
    frames = np.asarray(traj.frames[camera])
    return resize_frames(frames[subsample_indices(traj.n_steps, n_steps)], image_size)


def model_steps(traj: Trajectory, config: EncoderConfig) -> np.ndarray:
    """The per-step state input of one trajectory as `config` sets it (see step_array)."""
    return step_array(
        traj, config.n_steps, time_feature=config.time_feature, motion=config.motion_features
    )


def model_input(traj: Trajectory, config: EncoderConfig, camera: str | None) -> np.ndarray:
    """The main input `x` of one trajectory: steps (state encoder) or frames (image encoders)."""
    if not config.uses_frames:
        return model_steps(traj, config)
    return frame_array(traj, camera or _first_camera(traj), config.n_steps, config.image_size)


def side_steps(traj: Trajectory, config: EncoderConfig) -> np.ndarray | None:
    """The `steps` input beside the frames of an image + state model; None otherwise."""
    return model_steps(traj, config) if config.fuses_state else None


def _first_camera(traj: Trajectory) -> str:
    if not traj.cameras:
        raise InputError(f"trajectory {traj.trajectory_id!r}", "frames", "has no camera frames")
    return traj.cameras[0]


class FrameCache:
    """One `.npy` of model-ready frames per trajectory, keyed on pool + frame settings.

    Args:
        root: Cache folder; None keeps nothing on disk.
        pool_root: The pool folder (part of the key).
        camera: Camera name (part of the key).
        config: n_steps and image_size are part of the key.
    """

    def __init__(
        self, root: Path | None, *, pool_root: Path, camera: str, config: EncoderConfig
    ) -> None:
        key = f"{pool_root.resolve()}|{camera}|{config.n_steps}|{config.image_size}"
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        self.folder = None if root is None else root / f"frames-{digest}"
        if self.folder is not None:
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:  # a read-only pool: cache in memory only
                logger.warning("frame cache %s not writable (%s); not caching", self.folder, exc)
                self.folder = None

    def get(self, trajectory_id: str) -> np.ndarray | None:
        """The cached frames, or None."""
        if self.folder is None:
            return None
        path = self.folder / f"{trajectory_id}.npy"
        if not path.is_file():
            return None
        try:
            frames: np.ndarray = np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            logger.warning("frame cache entry %s unreadable; decoding again", path)
            return None
        return frames

    def put(self, trajectory_id: str, frames: np.ndarray) -> None:
        """Store frames atomically (temp name, then rename)."""
        if self.folder is None:
            return
        tmp = self.folder / f".{trajectory_id}.{uuid.uuid4().hex}.npy"
        np.save(tmp, frames, allow_pickle=False)
        os.replace(tmp, self.folder / f"{trajectory_id}.npy")


def stack_inputs(arrays: Sequence[np.ndarray]) -> np.ndarray:
    """Stack per-trajectory inputs, checking that state/action widths agree.

    Raises:
        InputError: Trajectories have different state + action widths.
    """
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise InputError("trajectories", "state", f"differing input shapes {sorted(shapes)}")
    return np.stack(arrays)


@dataclass(frozen=True)
class TrajectoryTable:
    """Model inputs of the N trajectories a run uses, one row each.

    Attributes:
        ids: (N,) trajectory ids, row order.
        x: (N, n_steps, D) float32 steps, (N, n_steps, H, W, 3) uint8 frames, or
            (N, n_steps, views, C·F) float16 pretrained features (view 0 unaugmented).
        task_embedding: (N, 384) float32 instruction embeddings, or None without language.
        tasks: (N,) instructions.
        steps: (N, n_steps, D) float32 steps beside the frames of an image + state model
            (`EncoderConfig.with_state`), (N, n_steps, 1) elapsed seconds of a frames-only
            pretrained model, else None.
    """

    ids: tuple[str, ...]
    x: torch.Tensor
    task_embedding: torch.Tensor | None
    tasks: tuple[str, ...]
    steps: torch.Tensor | None = None

    @property
    def step_values(self) -> torch.Tensor | None:
        """The per-step state input the network normalises: `steps`, or `x` for state models."""
        if self.steps is not None:
            return self.steps
        return None if self.x.dtype == torch.uint8 or self.x.ndim != 3 else self.x

    def to(self, device: torch.device) -> TrajectoryTable:
        """The same table with its tensors on `device`."""
        return TrajectoryTable(
            ids=self.ids,
            x=self.x.to(device),
            task_embedding=None if self.task_embedding is None else self.task_embedding.to(device),
            tasks=self.tasks,
            steps=None if self.steps is None else self.steps.to(device),
        )

    @property
    def row_of(self) -> dict[str, int]:
        """Trajectory id → row."""
        return {tid: i for i, tid in enumerate(self.ids)}


def build_table(
    pool: Pool,
    ids: Sequence[str],
    *,
    config: EncoderConfig,
    camera: str | None,
    embedder: TaskEmbedder | None,
    cache_root: Path | None,
    progress: ProgressCallback = no_progress,
    backbone: Backbone | None = None,
    cameras: Sequence[str] = (),
) -> TrajectoryTable:
    """Read (and for images decode once, through a cache) every trajectory in `ids`.

    A pretrained model (`config.pretrained`) reads the features of `backbone` for `cameras`
    from the embedding cache under `cache_root` (default POOL/.cache/embeddings): `x` is then
    (N, n_steps, views, C·F) float16. One that fine-tunes its backbone (`config.finetune`)
    reads the raw sampled frames of `cameras` instead: (N, n_steps, C, H, W, 3) uint8.
    """
    if config.pretrained and config.finetune:  # raw frames: each member embeds them itself
        from robopref.reward.finetune import frames_table

        return frames_table(
            pool, ids, config=config, cameras=cameras, embedder=embedder, progress=progress
        )
    if config.pretrained:
        return _pretrained_table(pool, ids, config, embedder, backbone, cameras, progress)
    cache = (
        FrameCache(cache_root, pool_root=pool.root, camera=camera or "", config=config)
        if config.uses_frames
        else None
    )
    arrays, steps = [], []
    for i, tid in enumerate(ids):
        traj: Trajectory | None = None  # read from the pool at most once
        cached = cache.get(tid) if cache is not None else None
        if cached is None:
            traj = pool[tid]
            cached = model_input(traj, config, camera)
            if cache is not None:
                cache.put(tid, cached)
        arrays.append(cached)
        if config.fuses_state:
            steps.append(model_steps(traj or pool[tid], config))
        progress(i + 1, len(ids))
    return _table(pool, ids, stack_inputs(arrays), steps, embedder)


def _pretrained_table(
    pool: Pool,
    ids: Sequence[str],
    config: EncoderConfig,
    embedder: TaskEmbedder | None,
    backbone: Backbone | None,
    cameras: Sequence[str],
    progress: ProgressCallback,
) -> TrajectoryTable:
    from robopref.reward.frame_features import cached_features, frame_times

    if backbone is None or not cameras:
        raise ValueError("backbone, cameras: a pretrained model's table needs both")
    features = cached_features(
        pool,
        ids,
        config=config,
        cameras=cameras,
        backbone=backbone,
        cache_root=None,
        progress=progress,
    )
    steps = []
    if config.fuses_state or config.times_frames:
        for tid in ids:
            traj = pool[tid]
            steps.append(
                model_steps(traj, config)
                if config.fuses_state
                else frame_times(traj, config.n_steps)
            )
    return _table(pool, ids, features, steps, embedder)


def _table(
    pool: Pool,
    ids: Sequence[str],
    x: np.ndarray,
    steps: list[np.ndarray],
    embedder: TaskEmbedder | None,
) -> TrajectoryTable:
    task_of = dict(zip(pool.manifest["trajectory_id"], pool.manifest["task"], strict=True))
    tasks = tuple(str(task_of[t]) for t in ids)
    embedding = None if embedder is None else torch.from_numpy(embedder.embed(tasks))
    return TrajectoryTable(
        ids=tuple(ids),
        x=torch.from_numpy(x),
        task_embedding=embedding,
        tasks=tasks,
        steps=torch.from_numpy(stack_inputs(steps)) if steps else None,
    )

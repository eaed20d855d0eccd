"""Inputs of a pretrained-backbone reward model: cached per-frame features, frames and times.

Training and pool scoring read features from the pool's embedding cache (`robopref.vision`):
every frame of every camera is embedded once, with `views` augmented views, and each
trajectory keeps its `n_steps` evenly sampled frames (the same nearest-step indices as every
other encoder). Trajectories from outside a pool (`RewardModel.score`) are read as raw frames
at their stored size; the frontend resizes them inside the network, as the ONNX graph does.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from robopref.errors import InputError
from robopref.pool.pool import Pool
from robopref.pool.trajectory import Trajectory
from robopref.progress import ProgressCallback, no_progress
from robopref.reward.config import EncoderConfig
from robopref.reward.features import subsample_indices

if TYPE_CHECKING:
    from robopref.vision import Backbone


def model_cameras(config: EncoderConfig, pool_primary: str | None) -> tuple[str, ...]:
    """The cameras a pretrained model reads: `cameras`, else `camera`, else the primary one.

    Raises:
        InputError: No camera is named and the pool has none.
    """
    if config.cameras:
        return config.cameras
    camera = config.camera or pool_primary
    if camera is None:
        raise InputError("--camera", "camera", "the pool has no camera frames to embed")
    return (camera,)


def frame_times(traj: Trajectory, n_steps: int) -> np.ndarray:
    """(n_steps, 1) float32 elapsed seconds at the sampled frames."""
    times = traj.times_s
    idx = subsample_indices(traj.n_steps, n_steps)
    out: np.ndarray = (times[idx] - times[0])[:, None].astype(np.float32)
    return out


def raw_frames(traj: Trajectory, cameras: Sequence[str], n_steps: int) -> np.ndarray:
    """(n_steps, C, H, W, 3) uint8 sampled frames of `cameras`, at their stored size.

    Raises:
        InputError: A camera the trajectory lacks, or cameras of different frame sizes.
    """
    idx = subsample_indices(traj.n_steps, n_steps)
    per_camera = []
    for camera in cameras:
        if camera not in traj.frames:
            raise InputError(
                f"trajectory {traj.trajectory_id!r}",
                "frames",
                f"no camera {camera!r} (has {list(traj.frames)}); the model reads {list(cameras)}",
            )
        per_camera.append(np.asarray(traj.frames[camera])[idx])
    sizes = {f.shape[1:3] for f in per_camera}
    if len(sizes) > 1:
        raise InputError(
            f"trajectory {traj.trajectory_id!r}",
            "frames",
            f"cameras {list(cameras)} have different frame sizes {sorted(sizes)}",
        )
    return np.stack(per_camera, axis=1)


def cached_features(
    pool: Pool,
    ids: Sequence[str],
    *,
    config: EncoderConfig,
    cameras: Sequence[str],
    backbone: Backbone,
    cache_root: Path | None,
    progress: ProgressCallback = no_progress,
) -> np.ndarray:
    """(N, n_steps, views, C·F) float16 features of the sampled frames, from the cache.

    Frames not yet in the cache are embedded first (batched; CUDA when present).
    """
    from robopref.vision.embed import trajectory_features

    per_camera = []
    for k, camera in enumerate(cameras):

        def report(done: int, total: int, k: int = k) -> None:
            progress(k * total + done, len(cameras) * total)

        features = trajectory_features(
            pool,
            backbone,
            list(ids),
            camera=camera,
            views=config.views,
            shift=config.view_shift,
            root=cache_root,
            progress=report,
        )
        per_camera.append(
            np.stack([f[subsample_indices(len(f), config.n_steps)] for f in features])
        )
    out: np.ndarray = np.concatenate(per_camera, axis=-1).astype(np.float16)
    return out

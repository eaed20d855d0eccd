"""Rendering one review clip: MP4, poster and sidecar, written atomically and only when stale."""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import numpy as np
from PIL import Image

from robopref.errors import InputError
from robopref.pool.config import MetricsConfig
from robopref.pool.trajectory import Trajectory
from robopref.render.compose import compose_frames
from robopref.render.config import RenderConfig
from robopref.render.display_key import KEY_FILE, clip_display_id, ensure_display_key
from robopref.render.planes import to_rgb
from robopref.render.sidecar import (
    build_sidecar,
    clip_hash,
    input_digest,
    read_burned_id,
    read_sidecar_hash,
    write_json_atomic,
)
from robopref.render.trim import ClipPlan, plan_clip
from robopref.safe_paths import check_name, path_inside
from robopref.video import write_video

logger = logging.getLogger(__name__)

TMP_SUFFIX = ".tmp"
"""Suffix of files being written; a clip folder holds none after a run, even a failed one."""


class ClipStatus(str, Enum):
    """What happened to one clip in a render run."""

    RENDERED = "rendered"
    SKIPPED = "skipped"
    """Inputs and settings unchanged since the existing clip was made (sidecar hash)."""
    FAILED = "failed"


@dataclass(frozen=True, kw_only=True)
class ClipResult:
    """The outcome of rendering one trajectory's clip."""

    trajectory_id: str
    """The trajectory."""
    status: ClipStatus
    """Rendered, skipped as unchanged, or failed."""
    n_frames: int = 0
    """Frames in the clip (0 when failed)."""
    error: str | None = None
    """Why it failed."""
    bad_input: bool = False
    """It failed on bad input (an `InputError` naming the file and field), not a fault."""


def clip_files(clips_dir: Path, trajectory_id: str) -> tuple[Path, Path, Path]:
    """Paths of a clip's video, poster and sidecar: `<id>.mp4`, `<id>.jpg`, `<id>.json`.

    Raises:
        InputError: `trajectory_id` is not a safe file name (it cannot leave `clips_dir`), or
            its sidecar would be the display key file.
    """
    check_name(trajectory_id, path=clips_dir, field="trajectory_id")
    if f"{trajectory_id}.json" == KEY_FILE:
        raise InputError(clips_dir, "trajectory_id", f"{trajectory_id!r} is reserved for the key")
    video, poster, sidecar = (
        path_inside(clips_dir, f"{trajectory_id}.{ext}") for ext in ("mp4", "jpg", "json")
    )
    return video, poster, sidecar


def resolve_camera(traj: Trajectory, camera: str | None) -> str:
    """`camera`, or the trajectory's first camera when None.

    Raises:
        InputError: The trajectory has no frames, or not from that camera.
    """
    if not traj.cameras:
        raise InputError(
            f"trajectory {traj.trajectory_id!r}", "frames", "has no camera frames to render"
        )
    chosen = camera or traj.cameras[0]
    if chosen not in traj.cameras:  # not `in traj.frames`: a lazy Mapping decodes on `in`
        raise InputError(
            f"trajectory {traj.trajectory_id!r}", "camera", f"{chosen!r} not among {traj.cameras}"
        )
    return chosen


def render_clip(
    traj: Trajectory,
    clips_dir: Path,
    config: RenderConfig,
    *,
    camera: str | None = None,
    metrics: MetricsConfig | None = None,
    burned_id: str | None = None,
    force: bool = False,
) -> ClipResult:
    """Render the review clip of `traj` into `clips_dir` unless an identical one is there.

    Writes `<id>.mp4`, `<id>.jpg` (poster: first frame of the first action) and `<id>.json`
    (sidecar, renamed into place last, so its hash only vouches for complete files).

    Args:
        traj: The trajectory (from a pool, or built in memory).
        clips_dir: Output folder (created).
        config: Clip settings.
        camera: Camera to render; None uses `config.camera`, else the first camera.
        metrics: Gripper hysteresis thresholds (the pool's); defaults to MetricsConfig().
        burned_id: The display id the watermark shows (recorded as the sidecar's
            `burned_id`); None derives it from the display key of `clips_dir` (created if
            absent). The trajectory id itself is never drawn.
        force: Render even when an identical clip is there.

    Returns: RENDERED or SKIPPED (failures raise InputError: no or undecodable frames).
    """
    metrics = metrics or MetricsConfig()
    chosen = resolve_camera(traj, camera or config.camera)
    video_path, poster_path, sidecar_path = clip_files(clips_dir, traj.trajectory_id)
    if burned_id is None:
        burned_id = clip_display_id(ensure_display_key(clips_dir), traj.trajectory_id)
    digest = input_digest(traj, chosen)
    wanted = clip_hash(
        inputs=digest, camera=chosen, config=config, metrics=metrics, burned_id=burned_id
    )
    if not force and _is_current(wanted, burned_id, (video_path, poster_path, sidecar_path)):
        return ClipResult(trajectory_id=traj.trajectory_id, status=ClipStatus.SKIPPED, n_frames=0)
    clips_dir.mkdir(parents=True, exist_ok=True)
    plan = plan_clip(traj, config)
    tag = uuid.uuid4().hex[:8]
    files = (video_path, poster_path, sidecar_path)
    tmp = {p: p.with_name(f".{p.name}.{tag}{TMP_SUFFIX}") for p in files}
    try:
        n = _encode(
            traj, plan, camera=chosen, config=config, metrics=metrics, watermark=burned_id,
            video_tmp=tmp[video_path], poster_tmp=tmp[poster_path],
        )  # fmt: skip
        os.replace(tmp[video_path], video_path)
        os.replace(tmp[poster_path], poster_path)
        sidecar = build_sidecar(
            traj, plan, camera=chosen, config=config, metrics=metrics, digest=digest,
            burned_id=burned_id,
        )  # fmt: skip
        write_json_atomic(sidecar_path, sidecar, tmp=tmp[sidecar_path])
    finally:
        for path in tmp.values():
            path.unlink(missing_ok=True)
    logger.debug("rendered %s: %d frames", video_path, n)
    return ClipResult(trajectory_id=traj.trajectory_id, status=ClipStatus.RENDERED, n_frames=n)


def _is_current(wanted: str, burned_id: str, files: tuple[Path, Path, Path]) -> bool:
    """Whether the sidecar has hash `wanted` and burned id `burned_id`, with video and poster.

    The burned id is checked on its own too, so that every clip the server would refuse
    (`robopref.render.burned.stale_clips`) is re-rendered.
    """
    video, poster, sidecar = files
    found = read_sidecar_hash(sidecar), read_burned_id(sidecar)
    return found == (wanted, burned_id) and video.is_file() and poster.is_file()


def _encode(
    traj: Trajectory,
    plan: ClipPlan,
    *,
    camera: str,
    config: RenderConfig,
    metrics: MetricsConfig,
    watermark: str,
    video_tmp: Path,
    poster_tmp: Path,
) -> int:
    """Write the clip and its poster to temporary paths; returns the frame count."""
    poster: list[np.ndarray] = []
    frames = compose_frames(
        traj, plan, camera=camera, config=config, metrics=metrics, watermark=watermark
    )
    n = write_video(
        video_tmp,
        _keeping(frames, plan.poster_index, poster),
        fps=config.fps,
        crf=config.crf,
        preset=config.preset,
        pix_fmt=config.pix_fmt,
        faststart=config.faststart,
        codec=config.codec,
        threads=config.encoder_threads,
        frame_format="yuv420p",
    )
    if n != plan.n_frames:
        raise RuntimeError(f"wrote {n} frames, planned {plan.n_frames}")
    Image.fromarray(to_rgb(poster[0])).save(poster_tmp, format="JPEG", quality=90)
    return n


def _keeping(
    frames: Iterator[np.ndarray], index: int, kept: list[np.ndarray]
) -> Iterator[np.ndarray]:
    """Pass `frames` through, copying frame number `index` into `kept`."""
    for i, frame in enumerate(frames):
        if i == index:
            kept.append(frame.copy())
        yield frame

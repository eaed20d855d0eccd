"""Composing clip frames: stream the camera, letterbox it, draw overlays and the force strip."""

from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np

from robopref.errors import InputError
from robopref.pool.config import MetricsConfig
from robopref.pool.layout import LazyFrames
from robopref.pool.metrics import gripper_states
from robopref.pool.trajectory import Trajectory
from robopref.render.config import RenderConfig
from robopref.render.force_strip import ForceStrip
from robopref.render.overlays import Box, OverlayPainter, load_font
from robopref.render.trim import ClipPlan
from robopref.video import iter_video, resize_frame


def letterbox(src_h: int, src_w: int, *, width: int, height: int, top: int = 0) -> Box:
    """The largest box of the source's aspect ratio centred in `width` × `height` (at `top`).

    >>> letterbox(240, 320, width=480, height=480)
    Box(x=0, y=60, w=480, h=360)
    """
    scale = min(width / src_w, height / src_h)
    w, h = max(1, round(src_w * scale)), max(1, round(src_h * scale))
    return Box((width - w) // 2, top + (height - h) // 2, w, h)


def has_force_strip(traj: Trajectory, config: RenderConfig) -> bool:
    """Whether the clip of `traj` carries a force strip (enabled and force data present)."""
    return config.force_strip and traj.force is not None


def source_frames(traj: Trajectory, camera: str) -> Iterator[np.ndarray]:
    """The camera's (H, W, 3) uint8 frames in step order.

    A pool trajectory's frames stream from its MP4, so a long episode is never held in
    memory whole.

    Raises:
        InputError: The trajectory has no such camera.
    """
    frames = traj.frames
    if camera not in traj.cameras:
        raise InputError(
            f"trajectory {traj.trajectory_id!r}",
            f"frames[{camera!r}]",
            f"no such camera; has {list(frames)}",
        )
    if isinstance(frames, LazyFrames):
        path = frames.path(camera)
        info = json.loads((path.parent / "meta.json").read_text())["cameras"][camera]
        height, width = int(info["height"]), int(info["width"])  # crop the even-size padding
        yield from (frame[:height, :width] for _, frame in iter_video(path))
    else:
        yield from np.asarray(frames[camera])


def frames_origin(traj: Trajectory, camera: str) -> tuple[str, str]:
    """(path, field) for errors about the camera's frames: the MP4 file when there is one."""
    if isinstance(traj.frames, LazyFrames) and camera in traj.cameras:
        return str(traj.frames.path(camera)), "frames"
    return f"trajectory {traj.trajectory_id!r}", f"frames[{camera!r}]"


class FrameComposer:
    """Lays out one clip's frame: letterboxed camera, overlays and force strip."""

    def __init__(
        self,
        traj: Trajectory,
        plan: ClipPlan,
        *,
        source_shape: tuple[int, int],
        config: RenderConfig,
        metrics: MetricsConfig,
    ) -> None:
        """Prepare everything that is the same for all frames of the clip.

        Args:
            traj: The trajectory.
            plan: Its clip plan (the force strip spans the plan's source time range).
            source_shape: (height, width) of the camera frames.
            config: Clip settings.
            metrics: Gripper hysteresis thresholds.
        """
        strip_h = config.force_strip_height if has_force_strip(traj, config) else 0
        self.video = letterbox(*source_shape, width=config.width, height=config.height - strip_h)
        self.base = np.zeros((config.height, config.width, 3), np.uint8)
        self.overlays = (
            OverlayPainter(
                trajectory_id=traj.trajectory_id, video=self.video, font_size=config.font_size
            )
            if config.overlays
            else None
        )
        self.strip = None
        if strip_h and traj.force is not None:
            self.strip = ForceStrip(
                traj.force,
                traj.times_s,
                box=Box(0, config.height - strip_h, config.width, strip_h),
                span_s=(plan.start_s, float(plan.times_s[-1])),
                full_scale_n=config.force_full_scale_n,
                font=load_font(max(8, config.font_size - 3)),
            )
        self.gripper_open = gripper_states(traj.gripper, metrics).astype(bool)

    def scale(self, frame: np.ndarray) -> np.ndarray:
        """A camera frame resized to the letterbox."""
        return resize_frame(frame, width=self.video.w, height=self.video.h)

    def compose(self, scaled: np.ndarray, *, time_s: float, step: int) -> np.ndarray:
        """A new clip frame showing `scaled` (from `scale`) at source time `time_s`, step `step`."""
        v = self.video
        canvas = self.base.copy()
        canvas[v.y : v.y + v.h, v.x : v.x + v.w] = scaled
        if self.overlays is not None:
            self.overlays.paint(canvas, time_s=time_s, gripper_open=bool(self.gripper_open[step]))
        if self.strip is not None:
            self.strip.paint(canvas, time_s)
        return canvas


def compose_frames(
    traj: Trajectory, plan: ClipPlan, *, camera: str, config: RenderConfig, metrics: MetricsConfig
) -> Iterator[np.ndarray]:
    """The clip's (height, width, 3) uint8 RGB frames, freeze included, in order.

    Source frames are decoded as a stream and each one is scaled once, however many clip
    frames show it; decoding stops at the last step the clip needs.

    Raises:
        InputError: The camera has no frames, or fewer than the clip needs.
    """
    where, field = frames_origin(traj, camera)
    frames = source_frames(traj, camera)
    current = next(frames, None)
    if current is None:
        raise InputError(where, field, "has no frames")
    composer = FrameComposer(
        traj, plan, source_shape=current.shape[:2], config=config, metrics=metrics
    )
    step, scaled = 0, composer.scale(current)
    canvas = composer.base
    for time_s, index in zip(plan.times_s.tolist(), plan.source_index.tolist(), strict=True):
        if index != step:
            while step < index:
                current = next(frames, None)
                step += 1
                if current is None:
                    raise InputError(where, field, f"ends before step {step}")
            scaled = composer.scale(current)
        canvas = composer.compose(scaled, time_s=time_s, step=index)
        yield canvas
    for _ in range(plan.n_freeze):
        yield canvas

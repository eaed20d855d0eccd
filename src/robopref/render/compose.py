"""Composing clip frames: the letterboxed camera, overlays and force strip, in yuv420p."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from robopref.pool.config import MetricsConfig
from robopref.pool.metrics import gripper_states
from robopref.pool.trajectory import Trajectory
from robopref.render.config import RenderConfig
from robopref.render.force_strip import ForceStrip
from robopref.render.overlays import Box, OverlayPainter, load_font
from robopref.render.planes import blank, planes
from robopref.render.source import resized_frames, source_shape
from robopref.render.trim import ClipPlan
from robopref.video import resize_frame


def _even(value: float) -> int:
    return max(2, 2 * round(value / 2))


def letterbox(src_h: int, src_w: int, *, width: int, height: int, top: int = 0) -> Box:
    """The largest box of the source's aspect ratio centred in `width` × `height` (at `top`).

    Sides and offsets are even, so the box lines up with 4:2:0 chroma samples.

    >>> letterbox(240, 320, width=480, height=480)
    Box(x=0, y=60, w=480, h=360)
    """
    scale = min(width / src_w, height / src_h)
    w, h = min(width, _even(src_w * scale)), min(height, _even(src_h * scale))
    return Box(((width - w) // 2) & ~1, (top + (height - h) // 2) & ~1, w, h)


def has_force_strip(traj: Trajectory, config: RenderConfig) -> bool:
    """Whether the clip of `traj` carries a force strip (enabled and force data present)."""
    return config.force_strip and traj.force is not None


class FrameComposer:
    """Lays out one clip's frames (yuv420p): letterboxed camera, overlays and force strip."""

    def __init__(
        self,
        traj: Trajectory,
        plan: ClipPlan,
        *,
        source_shape: tuple[int, int],
        config: RenderConfig,
        metrics: MetricsConfig,
        watermark: str | None = None,
    ) -> None:
        """Prepare everything that is the same for all frames of the clip.

        Args:
            traj: The trajectory.
            plan: Its clip plan (the force strip spans the plan's source time range).
            source_shape: (height, width) of the camera frames.
            config: Clip settings.
            metrics: Gripper hysteresis thresholds.
            watermark: Text of the watermark overlay (the clip's display id, never the
                trajectory id); None draws none.
        """
        strip_h = config.force_strip_height if has_force_strip(traj, config) else 0
        self.video = letterbox(*source_shape, width=config.width, height=config.height - strip_h)
        self.base = blank(config.height, config.width)
        self.overlays = None
        if config.overlays:
            self.overlays = OverlayPainter(
                watermark=watermark, video=self.video, font_size=config.font_size
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
        """An (H, W, 3) RGB camera frame as a yuv420p buffer the size of the letterbox."""
        return resize_frame(frame, width=self.video.w, height=self.video.h, pix_fmt="yuv420p")

    def compose(self, scaled: np.ndarray, *, time_s: float, step: int) -> np.ndarray:
        """A new yuv420p clip frame showing `scaled` at source time `time_s`, step `step`.

        Args:
            scaled: The camera frame as a letterbox-sized yuv420p buffer (from `scale`).
            time_s: Source time shown by the time overlay and the strip's cursor.
            step: Source step (selects the gripper state).
        """
        v = self.video
        canvas = self.base.copy()
        for plane, source, s in zip(planes(canvas), planes(scaled), (1, 2, 2), strict=True):
            plane[v.y // s : (v.y + v.h) // s, v.x // s : (v.x + v.w) // s] = source
        if self.overlays is not None:
            self.overlays.paint(canvas, time_s=time_s, gripper_open=bool(self.gripper_open[step]))
        if self.strip is not None:
            self.strip.paint(canvas, time_s)
        return canvas


def compose_frames(
    traj: Trajectory,
    plan: ClipPlan,
    *,
    camera: str,
    config: RenderConfig,
    metrics: MetricsConfig,
    watermark: str | None = None,
) -> Iterator[np.ndarray]:
    """The clip's frames as yuv420p buffers ((height * 3 / 2, width) uint8), freeze included.

    The watermark overlay shows `watermark` (the clip's display id; None: no watermark).

    Only the source steps the clip shows are converted and resized, each once however many
    clip frames show it; decoding stops at the last step the clip needs. Use
    `robopref.render.planes.to_rgb` for an RGB view of a frame.

    Raises:
        InputError: The camera is missing or has fewer frames than the clip needs.
    """
    composer = FrameComposer(
        traj, plan, source_shape=source_shape(traj, camera), config=config, metrics=metrics,
        watermark=watermark,
    )  # fmt: skip
    video = composer.video
    steps = np.unique(plan.source_index)
    frames = resized_frames(traj, camera, steps=steps, width=video.w, height=video.h)
    step, scaled = next(frames)
    canvas = composer.base
    for time_s, index in zip(plan.times_s.tolist(), plan.source_index.tolist(), strict=True):
        while step < index:
            step, scaled = next(frames)
        canvas = composer.compose(scaled, time_s=time_s, step=index)
        yield canvas
    for _ in range(plan.n_freeze):
        yield canvas

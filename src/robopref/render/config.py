"""Configuration of the render stage: clip format, trimming, overlays and the force strip."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

_PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
    "placebo",
)


@dataclass(frozen=True, kw_only=True)
class RenderConfig:
    """How every review clip of a project is made (seed 004); defaults are the standard."""

    width: int = 480
    """Clip width in pixels (even, for yuv420p)."""
    height: int = 480
    """Clip height in pixels (even), force strip included."""
    fps: float = 15.0
    """Clip frame rate; source frames are resampled to it by their timestamps."""
    crf: int = 23
    """x264 constant rate factor (0 lossless … 51 worst)."""
    preset: str = "veryfast"
    """x264 speed preset."""
    pix_fmt: str = "yuv420p"
    """Output pixel format; yuv420p is what every browser decodes."""
    codec: str = "libx264"
    """FFmpeg encoder name (H.264 through libx264 by default)."""
    faststart: bool = True
    """Write the moov atom before mdat so a `<video>` element can seek at once."""
    encoder_threads: int = 1
    """x264 threads per clip; 1 keeps output deterministic and parallelism across processes."""
    camera: str | None = None
    """Camera to render; None takes the pool's primary camera."""
    lead_in_s: float = 1.0
    """Seconds kept before the first non-trivial action."""
    tail_s: float = 2.0
    """Seconds kept after the first success step (clipped to the episode end)."""
    freeze_s: float = 2.0
    """Seconds the final frame is held at the end of the clip."""
    action_threshold: float = 0.05
    """An action counts as non-trivial when any component differs this much from the first."""
    motion_threshold_m_s: float = 0.02
    """End-effector speed (m/s) above which the robot counts as moving."""
    overlays: bool = True
    """Draw the trajectory id, source time and gripper state on the frames."""
    font_size: int = 15
    """Overlay text height in pixels."""
    force_strip: bool = True
    """Draw a force-magnitude strip under the video when the trajectory has force data."""
    force_strip_height: int = 48
    """Height of the force strip in pixels (even); taken from the clip height."""
    force_full_scale_n: float = 50.0
    """Force (N) at the top of the strip's colour scale; one scale for all clips."""
    workers: int = 0
    """Worker processes; 0 uses every core, 1 renders in this process."""
    ray_address: str | None = None
    """Ray cluster address (`auto`, `local`, `ray://host:10001`); None renders locally."""

    def __post_init__(self) -> None:
        for name in ("width", "height", "force_strip_height"):
            value = getattr(self, name)
            if not (isinstance(value, int) and value >= 16 and value % 2 == 0):
                raise ValueError(
                    f"RenderConfig.{name} must be an even integer >= 16, got {value!r}"
                )
        if self.force_strip_height > self.height // 2:
            raise ValueError("RenderConfig.force_strip_height must be at most half of height")
        if not 1 <= self.fps <= 120:
            raise ValueError(f"RenderConfig.fps must be in [1, 120], got {self.fps!r}")
        if not 0 <= self.crf <= 51:
            raise ValueError(f"RenderConfig.crf must be in [0, 51], got {self.crf!r}")
        if self.preset not in _PRESETS:
            raise ValueError(f"RenderConfig.preset must be one of {_PRESETS}, got {self.preset!r}")
        for name in ("lead_in_s", "tail_s", "freeze_s", "action_threshold", "motion_threshold_m_s"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"RenderConfig.{name} must be >= 0, got {getattr(self, name)!r}")
        if not 6 <= self.font_size <= 64:
            raise ValueError(f"RenderConfig.font_size must be in [6, 64], got {self.font_size!r}")
        if not self.force_full_scale_n > 0:
            raise ValueError("RenderConfig.force_full_scale_n must be > 0")
        if self.encoder_threads < 0:
            raise ValueError("RenderConfig.encoder_threads must be >= 0 (0 lets x264 choose)")
        if self.workers < 0:
            raise ValueError(f"RenderConfig.workers must be >= 0, got {self.workers!r}")

    def clip_settings(self) -> dict[str, Any]:
        """The fields that change a clip's pixels or bytes (hashed into its sidecar)."""
        skip = {"workers", "ray_address"}
        return {
            f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in skip
        }

"""Overlays drawn on clip frames: display id watermark, source time and gripper state.

Every overlay sits in a corner of the video area, away from the workspace centre. Text is
rendered with Pillow's FreeType fonts (DejaVu Sans Mono from matplotlib's data when present,
else Pillow's scalable default font): fixed labels once per clip, the time counter's text
(on a fixed box) once per frame; all are alpha-blended into each yuv420p frame with
integer numpy arithmetic (see `robopref.render.planes`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from robopref.render.planes import YuvPatch

MARGIN_PX = 6
"""Gap between an overlay and the edge of the video area."""
MAX_LABEL_FRACTION = 0.45
"""An overlay may take at most this fraction of the video width."""
MIN_FONT_PX = 7
"""Overlay text never gets smaller than this, however small the clip."""
MAX_WATERMARK_LINES = 4
"""The watermark wraps onto at most this many lines (a tiny clip clips the rest)."""
OPEN_RGB = (60, 200, 90)
"""Indicator colour of an open gripper."""
CLOSED_RGB = (235, 80, 40)
"""Indicator colour of a closed gripper."""

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


class Box(NamedTuple):
    """A pixel rectangle: left, top, width, height."""

    x: int
    y: int
    w: int
    h: int


@lru_cache(maxsize=8)
def load_font(size: int) -> Font:
    """A monospaced TTF (DejaVu Sans Mono, shipped with matplotlib) or Pillow's default font."""
    try:
        import matplotlib

        path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSansMono.ttf"
        return ImageFont.truetype(str(path), size)
    except (ImportError, OSError):
        return ImageFont.load_default(size=size)


def label_patch(
    text: str,
    font: Font,
    *,
    dot_rgb: tuple[int, int, int] | None = None,
    min_w: int = 0,
    align_right: bool = False,
) -> YuvPatch:
    """White text on a translucent dark rounded box, optionally led by a coloured dot.

    Args:
        text: The label; a newline starts another line (the dot sits on the first).
        font: Its font.
        dot_rgb: Colour of a dot drawn before the text, if any.
        min_w: Minimum patch width in pixels (keeps changing labels the same size).
        align_right: Right-align the text in a patch wider than it.
    """
    top, text_h, pad = label_metrics(font)
    lines = text.split("\n")
    dot = text_h if dot_rgb else 0
    text_w = max(int(font.getbbox(line)[2]) if line else 0 for line in lines)
    w = max(min_w, text_w + dot + (pad if dot else 0) + 2 * pad)
    h = len(lines) * (text_h + pad) + pad
    image = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, w - 1, h - 1), radius=pad, fill=(0, 0, 0, 150))
    if dot_rgb:
        draw.ellipse((pad, pad, pad + dot - 1, pad + dot - 1), fill=(*dot_rgb, 255))
    x = w - pad - text_w if align_right else pad + dot + (pad if dot else 0)
    for i, line in enumerate(lines):
        y = pad - top + i * (text_h + pad)
        draw.text((x, y), line, font=font, fill=(255, 255, 255, 255))
    return YuvPatch.from_rgba(np.asarray(image))


@lru_cache(maxsize=16)
def label_metrics(font: Font) -> tuple[int, int, int]:
    """(top offset, text height, padding) in pixels of labels in `font`."""
    _, top, _, bottom = font.getbbox("Ag")
    text_h = int(bottom - top)
    return int(top), text_h, max(2, text_h // 4)


def text_patch(text: str, font: Font) -> YuvPatch:
    """White text on transparency, `label_metrics` text height tall (no box)."""
    top, text_h, _ = label_metrics(font)
    image = Image.new("L", (max(1, int(font.getbbox(text)[2])), text_h))
    ImageDraw.Draw(image).text((0, -top), text, font=font, fill=255)
    return YuvPatch.solid(np.asarray(image), (255, 255, 255))


def wrap_text(text: str, font: Font, max_w: int) -> str:
    """`text` cut into the fewest equal lines (newline-joined) that fit in `max_w` pixels.

    Never shortened: at most MAX_WATERMARK_LINES lines, however narrow `max_w` is.

    >>> print(wrap_text("0123456789abcdef01234567", load_font(10), 80))
    0123456789ab
    cdef01234567
    """
    for n_lines in range(1, MAX_WATERMARK_LINES):
        lines = _chunks(text, n_lines)
        if all(font.getbbox(line)[2] <= max_w for line in lines):
            return "\n".join(lines)
    return "\n".join(_chunks(text, MAX_WATERMARK_LINES))


def _chunks(text: str, n: int) -> list[str]:
    size = max(1, -(-len(text) // n))
    return [text[i : i + size] for i in range(0, len(text), size)]


def fitting_font(video: Box, font_size: int) -> Font:
    """The font at `font_size`, or smaller until the overlays fit in the video's corners.

    Fitting means the gripper label takes at most MAX_LABEL_FRACTION of the width, and a
    label row at most an eighth of the height (so the middle half stays clear).
    """
    size = font_size
    while size > MIN_FONT_PX:
        font = load_font(size)
        gripper = label_patch("gripper closed", font, dot_rgb=CLOSED_RGB)
        if gripper.w <= video.w * MAX_LABEL_FRACTION and gripper.h + MARGIN_PX <= video.h / 8:
            return font
        size -= 1
    return load_font(MIN_FONT_PX)


class OverlayPainter:
    """Draws the three overlays of one clip; text patches are rendered once and cached."""

    def __init__(self, *, watermark: str | None, video: Box, font_size: int) -> None:
        """Render the fixed patches.

        Args:
            watermark: Shown in full at the top left (the clip's display id; wrapped onto
                more lines when it does not fit beside the time); None draws none.
            video: The letterboxed video area.
            font_size: Text height in pixels.
        """
        self.video = video
        self.font = fitting_font(video, font_size)
        max_w = int(video.w * MAX_LABEL_FRACTION)
        words = ("gripper open", "gripper closed")
        if label_patch(words[1], self.font, dot_rgb=CLOSED_RGB).w > max_w:
            words = ("open", "closed")  # a small clip: the dot's colour says the rest
        indicator_w = label_patch(words[1], self.font, dot_rgb=CLOSED_RGB).w
        self.gripper = {
            True: label_patch(words[0], self.font, dot_rgb=OPEN_RGB, min_w=indicator_w),
            False: label_patch(words[1], self.font, dot_rgb=CLOSED_RGB, min_w=indicator_w),
        }
        self._time_w = label_patch(self._time_text(9999.99), self.font).w
        self._time_box = label_patch("", self.font, min_w=self._time_w)
        self.watermark = None
        if watermark:
            _, _, pad = label_metrics(self.font)
            beside_time = video.w - 3 * MARGIN_PX - self._time_w - 2 * pad
            self.watermark = label_patch(wrap_text(watermark, self.font, beside_time), self.font)
        self._regions = self._layout()

    @staticmethod
    def _time_text(time_s: float) -> str:
        return f"t {time_s:.2f} s"

    def regions(self) -> dict[str, Box]:
        """Where each overlay is drawn: `time`, `gripper` and `watermark` (if any)."""
        return dict(self._regions)

    def _layout(self) -> dict[str, Box]:
        v, m = self.video, MARGIN_PX
        gripper, time_h = self.gripper[True], self._time_box.h
        regions = {
            "time": Box(v.x + v.w - m - self._time_w, v.y + m, self._time_w, time_h),
            "gripper": Box(v.x + m, v.y + v.h - m - gripper.h, gripper.w, gripper.h),
        }
        if self.watermark is not None:
            regions["watermark"] = Box(v.x + m, v.y + m, self.watermark.w, self.watermark.h)
        return regions

    def paint(self, canvas: np.ndarray, *, time_s: float, gripper_open: bool) -> None:
        """Draw all overlays on a yuv420p `canvas` ((H * 3 / 2, W) uint8) in place."""
        regions = self._regions
        if self.watermark is not None:
            self.watermark.paint(canvas, regions["watermark"].x, regions["watermark"].y)
        box = regions["time"]
        self._time_box.paint(canvas, box.x, box.y)
        text = text_patch(self._time_text(time_s), self.font)  # new each frame: cheap
        _, _, pad = label_metrics(self.font)
        text.paint(canvas, box.x + box.w - pad - text.w, box.y + pad)
        self.gripper[gripper_open].paint(canvas, regions["gripper"].x, regions["gripper"].y)

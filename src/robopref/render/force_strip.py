"""The force strip: force magnitude over the clip's time range, drawn under the video.

The static strip (a colour-mapped area chart with a scale label) is drawn once per clip
with numpy and Pillow; each frame only copies it and moves a cursor. This is several times
faster than redrawing with matplotlib and looks the same at 48 px height (the colour map
itself is matplotlib's `inferno`).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw

from robopref.render.overlays import Box, Font
from robopref.render.planes import from_rgb, planes

BACKGROUND_RGB = (18, 18, 24)
"""Strip background."""
CURSOR_W_PX = 2
"""Cursor width in pixels (one chroma column); the cursor is white."""


@lru_cache(maxsize=1)
def colour_lut() -> np.ndarray:
    """(256, 3) uint8 lookup table of matplotlib's perceptually uniform `inferno` map."""
    from matplotlib import colormaps

    rgba = colormaps["inferno"](np.linspace(0.0, 1.0, 256))
    lut: np.ndarray = np.round(rgba[:, :3] * 255).astype(np.uint8)
    return lut


def column_peaks(
    force_n: np.ndarray, times_s: np.ndarray, *, start_s: float, end_s: float, n_columns: int
) -> np.ndarray:
    """(n_columns,) peak force in each column's time bin; interpolated where a bin is empty."""
    edges = np.linspace(start_s, end_s, n_columns + 1)
    centres = 0.5 * (edges[:-1] + edges[1:])
    peaks: np.ndarray = np.interp(centres, times_s, force_n)
    column = np.searchsorted(edges, times_s, side="right") - 1
    inside = (column >= 0) & (column < n_columns)
    np.maximum.at(peaks, column[inside], force_n[inside])
    return peaks


class ForceStrip:
    """A force strip for one clip: static image plus a cursor that follows source time."""

    def __init__(
        self,
        force_n: np.ndarray,
        times_s: np.ndarray,
        *,
        box: Box,
        span_s: tuple[float, float],
        full_scale_n: float,
        font: Font,
    ) -> None:
        """Draw the static strip.

        Args:
            force_n: (T,) force magnitude in newtons.
            times_s: (T,) its source times in seconds.
            box: Where the strip goes in the frame.
            span_s: Source time at the strip's left and right edges.
            full_scale_n: Force at the top of the colour scale.
            font: Label font.
        """
        self.box = box
        self.span_s = span_s
        levels = column_peaks(
            np.abs(force_n), times_s, start_s=span_s[0], end_s=span_s[1], n_columns=box.w
        )
        peak = float(levels.max())
        self.static = self._draw(
            np.clip(levels / full_scale_n, 0.0, 1.0),
            font,
            f"force  peak {peak:.1f} N / {full_scale_n:g} N",
        )
        self.static_yuv = planes(from_rgb(self.static))
        """The static strip as Y, U, V planes, copied into each frame before the cursor."""

    def _draw(self, level: np.ndarray, font: Font, label: str) -> np.ndarray:
        h, w = self.box.h, self.box.w
        strip = np.empty((h, w, 3), np.uint8)
        strip[...] = BACKGROUND_RGB
        colours = colour_lut()[np.round(level * 255).astype(np.int64)]
        heights = np.maximum(1, np.round(level * (h - 4)).astype(np.int64))
        rows = np.arange(h)[:, None]
        filled = rows >= (h - 2 - heights)[None, :]
        filled &= rows < h - 2
        strip[filled] = np.broadcast_to(colours[None, :, :], (h, w, 3))[filled]
        image = Image.fromarray(strip)
        # outlined, so the label stays readable over a bright (high-force) bar
        ImageDraw.Draw(image).text((4, 2), label, font=font, fill=(235, 235, 235),
                                   stroke_width=2, stroke_fill=(0, 0, 0))
        return np.asarray(image).copy()

    def cursor_x(self, time_s: float) -> int:
        """Column of the cursor at source time `time_s` (even; clamped to the strip)."""
        start, end = self.span_s
        fraction = 0.0 if end <= start else (time_s - start) / (end - start)
        x = int(np.clip(round(fraction * (self.box.w - CURSOR_W_PX)), 0, self.box.w - CURSOR_W_PX))
        return x & ~1

    def paint(self, canvas: np.ndarray, time_s: float) -> None:
        """Copy the strip into a yuv420p `canvas` (in place) with the cursor at `time_s`."""
        b, x = self.box, self.cursor_x(time_s)
        for plane, static, scale in zip(planes(canvas), self.static_yuv, (1, 2, 2), strict=True):
            region = plane[b.y // scale : (b.y + b.h) // scale, b.x // scale : (b.x + b.w) // scale]
            region[...] = static
            region[:, x // scale : (x + CURSOR_W_PX) // scale] = 235 if scale == 1 else 128

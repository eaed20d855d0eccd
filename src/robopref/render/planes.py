"""Frames in the encoder's own format: YUV 4:2:0 buffers, and RGBA patches blended into them.

Clips are composed directly in yuv420p, the layout PyAV's `VideoFrame.from_ndarray(...,
format="yuv420p")` takes: one (H * 3 / 2, W) uint8 array holding the Y plane (H × W) and
then the U and V planes (H/2 × W/2 each). The camera is scaled from the decoder's YUV
straight to YUV, and the encoder gets frames it needs no conversion for, which saves
about a millisecond per 480 × 480 frame over composing in RGB. Colours use the BT.601
limited-range matrix, the one swscale applies to RGB input by default.
"""

from __future__ import annotations

from functools import lru_cache

import av
import numpy as np

BLACK_YUV = (16, 128, 128)
"""Limited-range black."""

_BT601 = (
    np.array([[65.481, 128.553, 24.966], [-37.797, -74.203, 112.0], [112.0, -93.786, -18.214]])
    / 255.0
)
_OFFSET = np.array([16.0, 128.0, 128.0])


def planes(buffer: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Views of the Y (H, W), U and V (H/2, W/2) planes of a yuv420p buffer."""
    height, width = buffer.shape[0] * 2 // 3, buffer.shape[1]
    quarter = height // 4
    u = buffer[height : height + quarter].reshape(height // 2, width // 2)
    v = buffer[height + quarter :].reshape(height // 2, width // 2)
    return buffer[:height], u, v


def blank(height: int, width: int) -> np.ndarray:
    """A black yuv420p buffer of an even `height` × `width`."""
    buffer = np.empty((height * 3 // 2, width), np.uint8)
    y, u, v = planes(buffer)
    y[...], u[...], v[...] = BLACK_YUV
    return buffer


def rgb_to_yuv(rgb: np.ndarray) -> np.ndarray:
    """(h, w, 3) float32 BT.601 limited-range YUV of (h, w, 3) RGB, at full resolution.

    >>> rgb_to_yuv(np.array([[[255, 0, 0]]], np.uint8)).round().tolist()
    [[[81.0, 90.0, 240.0]]]
    """
    yuv: np.ndarray = (rgb.astype(np.float32) @ _BT601.T.astype(np.float32)) + _OFFSET
    return yuv.astype(np.float32)


def from_rgb(rgb: np.ndarray) -> np.ndarray:
    """The yuv420p buffer of an (H, W, 3) uint8 RGB image (even H and W), via swscale."""
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
    buffer: np.ndarray = frame.reformat(format="yuv420p").to_ndarray()
    return buffer


def to_rgb(buffer: np.ndarray) -> np.ndarray:
    """The (H, W, 3) uint8 RGB image of a yuv420p buffer, via swscale."""
    frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(buffer), format="yuv420p")
    rgb: np.ndarray = frame.to_ndarray(format="rgb24")
    return rgb


def _block_mean(alpha: np.ndarray) -> np.ndarray:
    """(h/2, w/2) uint16 rounded mean of each 2 × 2 block of an (h, w) uint16 array."""
    total = alpha[0::2, 0::2] + alpha[1::2, 0::2] + alpha[0::2, 1::2] + alpha[1::2, 1::2]
    mean: np.ndarray = (total + 2) // 4
    return mean


class YuvPatch:
    """An image with alpha, prepared for blending into yuv420p buffers at even positions.

    Blending is linear and YUV is an affine function of RGB, so blending in YUV gives the
    same result as blending in RGB and converting; chroma is blended at half resolution
    with the mean alpha of each 2 × 2 block (premultiplied), which is exact for 4:2:0.
    Build one with `from_rgba` or `solid`.
    """

    def __init__(self, *, luma: np.ndarray, chroma: np.ndarray, alpha: np.ndarray) -> None:
        """Hold premultiplied planes (use `from_rgba` or `solid`).

        Args:
            luma: (h, w) uint16 Y × alpha, h and w even.
            chroma: (2, h/2, w/2) uint16 U and V × the 2 × 2 block's mean alpha.
            alpha: (h, w) uint16 alpha in 0…255.
        """
        self.h, self.w = alpha.shape
        self.y_premultiplied = luma
        self.y_inverse_alpha = 255 - alpha
        self.c_premultiplied = [chroma[0], chroma[1]]
        self.c_inverse_alpha = 255 - _block_mean(alpha)

    @classmethod
    def from_rgba(cls, rgba: np.ndarray) -> YuvPatch:
        """From an (h, w, 4) uint8 RGBA image (padded to even sides with transparency)."""
        rgba = _pad_even(rgba)
        alpha = rgba[..., 3].astype(np.float32)
        yuv = rgb_to_yuv(rgba[..., :3]) * alpha[..., None]
        h, w = alpha.shape
        chroma = yuv[..., 1:].reshape(h // 2, 2, w // 2, 2, 2).mean(axis=(1, 3))
        return cls(
            luma=np.round(yuv[..., 0]).astype(np.uint16),
            chroma=np.round(np.moveaxis(chroma, -1, 0)).astype(np.uint16),
            alpha=rgba[..., 3].astype(np.uint16),
        )

    @classmethod
    def solid(cls, alpha: np.ndarray, rgb: tuple[int, int, int]) -> YuvPatch:
        """One colour through an (h, w) uint8 alpha mask, such as rendered text.

        Integer arithmetic only: this runs once per frame for the time counter.
        """
        a = _pad_even(alpha).astype(np.uint16)
        y, u, v = _colour_yuv(rgb)
        block = _block_mean(a)
        return cls(luma=a * y, chroma=np.stack([block * u, block * v]), alpha=a)

    def paint(self, buffer: np.ndarray, x: int, y: int) -> None:
        """Blend into a yuv420p `buffer` in place, top-left at (x, y) (rounded down to even)."""
        x, y = max(0, x) & ~1, max(0, y) & ~1
        y_plane, u_plane, v_plane = planes(buffer)
        region = y_plane[y : y + self.h, x : x + self.w]
        h, w = region.shape  # clipped at the frame edge on a tiny clip
        _blend(region, self.y_premultiplied[:h, :w], self.y_inverse_alpha[:h, :w])
        for plane, premultiplied in zip((u_plane, v_plane), self.c_premultiplied, strict=True):
            region = plane[y // 2 : (y + self.h) // 2, x // 2 : (x + self.w) // 2]
            ch, cw = region.shape
            _blend(region, premultiplied[:ch, :cw], self.c_inverse_alpha[:ch, :cw])


@lru_cache(maxsize=64)
def _colour_yuv(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    y, u, v = np.round(rgb_to_yuv(np.array([[rgb]], np.uint8))[0, 0])
    return int(y), int(u), int(v)


def _pad_even(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    padding = [(0, h % 2), (0, w % 2)] + [(0, 0)] * (image.ndim - 2)
    return np.pad(image, padding) if h % 2 or w % 2 else image


def _blend(region: np.ndarray, premultiplied: np.ndarray, inverse_alpha: np.ndarray) -> None:
    region[...] = (region * inverse_alpha + premultiplied + 127) // 255

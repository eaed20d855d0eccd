"""Frames at given times from video files shared by many episodes, decoding each file once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from robopref.errors import InputError
from robopref.video import iter_video


class VideoCursor:
    """Hands out the frames of consecutive episodes from one camera's video files.

    LeRobot v3 packs many episodes into one MP4, back to back. Episodes are read in order, so
    the cursor keeps the decoder of the current file open and moves forward; asking for an
    earlier time or another file reopens. Each file is therefore decoded about once.

    Args:
        tolerance_s: Largest gap between a wanted time and a frame's presentation time.
    """

    def __init__(self, tolerance_s: float) -> None:
        self.tolerance_s = tolerance_s
        self._path: Path | None = None
        self._frames: Iterator[tuple[float, np.ndarray]] | None = None
        self._pending: tuple[float, np.ndarray] | None = None

    def read(self, path: Path, times_s: np.ndarray, *, field: str) -> np.ndarray:
        """Frames of `path` at `times_s` (increasing, seconds from the file start).

        Returns:
            (T, H, W, 3) uint8 RGB.

        Raises:
            InputError: Unreadable file, no frame within the tolerance of a wanted time, or
                frames of different sizes.
        """
        if (
            self._path != path
            or self._pending is None
            or self._pending[0] > times_s[0] + self.tolerance_s
        ):
            self._open(path)
        try:
            frames = [self._frame_at(path, float(t), field) for t in times_s]
            if len({frame.shape for frame in frames}) > 1:
                raise InputError(path, field, "the frame size changes within the episode")
        except InputError:
            self.close()  # the decoder's position is unknown after a failure
            raise
        return np.stack(frames)

    def _frame_at(self, path: Path, time_s: float, field: str) -> np.ndarray:
        while True:
            if self._pending is None:
                self._advance(path, field, time_s)
            assert self._pending is not None
            pts, frame = self._pending
            if pts < time_s - self.tolerance_s:
                self._pending = None
                continue
            if pts > time_s + self.tolerance_s:
                raise InputError(
                    path, field, f"no frame at {time_s:.4f} s (next frame at {pts:.4f} s)"
                )
            return frame

    def _advance(self, path: Path, field: str, time_s: float) -> None:
        assert self._frames is not None
        try:
            self._pending = next(self._frames)
        except StopIteration:
            raise InputError(
                path, field, f"video ends before {time_s:.4f} s (truncated?)"
            ) from None
        except InputError as exc:
            raise InputError(path, field, exc.message) from exc

    def _open(self, path: Path) -> None:
        self.close()
        if not path.is_file():
            raise InputError(path, "video", "file missing")
        self._path = path
        self._frames = iter_video(path)
        self._pending = None

    def close(self) -> None:
        """Close the current decoder."""
        if self._frames is not None and hasattr(self._frames, "close"):
            self._frames.close()
        self._path, self._frames, self._pending = None, None, None

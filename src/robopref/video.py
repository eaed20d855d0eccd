"""Reading and writing H.264 video with PyAV: the one place robopref talks to FFmpeg."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from robopref.errors import InputError


def write_video(
    path: Path,
    frames: Iterable[np.ndarray],
    *,
    fps: float,
    crf: int = 23,
    preset: str = "veryfast",
    pix_fmt: str = "yuv420p",
    faststart: bool = True,
) -> int:
    """Encode RGB frames with libx264 into an MP4.

    Args:
        path: Output file (`.mp4`).
        frames: (H, W, 3) uint8 RGB frames, all the same size; H and W even for yuv420p.
        fps: Frame rate; rational rates such as 29.97 are kept to 1/1000 s.
        crf: Constant rate factor (0 lossless … 51 worst).
        preset: x264 speed preset.
        pix_fmt: Output pixel format.
        faststart: Put the moov atom before mdat so browsers can seek at once.

    Returns:
        The number of frames written.
    """
    options = {"movflags": "+faststart"} if faststart else {}
    count = 0
    with av.open(str(path), mode="w", format="mp4", options=options) as container:
        stream = None
        for frame in frames:
            if stream is None:
                stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1000))
                stream.height, stream.width = int(frame.shape[0]), int(frame.shape[1])
                stream.pix_fmt = pix_fmt
                stream.options = {"crf": str(crf), "preset": preset}
            video_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
            container.mux(stream.encode(video_frame))
            count += 1
        if stream is not None:
            container.mux(stream.encode(None))
    return count


def iter_video(path: Path) -> Iterator[tuple[float, np.ndarray]]:
    """Decode a video file (any codec FFmpeg reads, AV1 included) frame by frame.

    Yields:
        (presentation time in seconds, (H, W, 3) uint8 RGB frame).

    Raises:
        InputError: The file is missing or cannot be decoded.
    """
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            for frame in container.decode(stream):
                time_s = float(frame.pts * stream.time_base) if frame.pts is not None else 0.0
                yield time_s, frame.to_ndarray(format="rgb24")
    except (av.error.FFmpegError, IndexError, OSError) as exc:
        raise InputError(path, "video", f"cannot decode: {exc}") from exc


def read_video(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Decode a whole video.

    Returns:
        ((N,) float64 presentation times in seconds, (N, H, W, 3) uint8 RGB frames).
    """
    times, frames = [], []
    for time_s, frame in iter_video(path):
        times.append(time_s)
        frames.append(frame)
    if not frames:
        raise InputError(path, "video", "contains no frames")
    return np.asarray(times, np.float64), np.stack(frames)

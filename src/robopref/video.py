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
    codec: str = "libx264",
    threads: int | None = None,
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
        codec: FFmpeg encoder name.
        threads: Encoder threads; None lets FFmpeg choose, 1 gives deterministic output.

    Returns:
        The number of frames written.
    """
    options = {"movflags": "+faststart"} if faststart else {}
    count = 0
    with av.open(str(path), mode="w", format="mp4", options=options) as container:
        stream: av.video.stream.VideoStream | None = None
        for frame in frames:
            if stream is None:
                stream = _video_stream(container, path, codec=codec, fps=fps, shape=frame.shape)
                stream.pix_fmt = pix_fmt
                stream.options = {"crf": str(crf), "preset": preset}
                if threads is not None:
                    stream.codec_context.thread_count = threads
            video_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
            container.mux(stream.encode(video_frame))
            count += 1
        if stream is not None:
            container.mux(stream.encode(None))
    return count


def _video_stream(
    container: av.container.OutputContainer,
    path: Path,
    *,
    codec: str,
    fps: float,
    shape: tuple[int, ...],
) -> av.video.stream.VideoStream:
    stream = container.add_stream(codec, rate=Fraction(fps).limit_denominator(1000))
    if not isinstance(stream, av.video.stream.VideoStream):
        raise InputError(path, "codec", f"{codec!r} is not a video encoder")
    stream.height, stream.width = int(shape[0]), int(shape[1])
    return stream


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
                pts, base = frame.pts, stream.time_base
                time_s = float(pts * base) if pts is not None and base is not None else 0.0
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


def resize_frame(frame: np.ndarray, *, width: int, height: int) -> np.ndarray:
    """Rescale an RGB frame with FFmpeg's swscale (bilinear).

    Args:
        frame: (H, W, 3) uint8 RGB.
        width: Output width in pixels.
        height: Output height in pixels.

    Returns:
        (height, width, 3) uint8 RGB.
    """
    if frame.shape[0] == height and frame.shape[1] == width:
        return frame
    video_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
    scaled = video_frame.reformat(
        width=width, height=height, format="rgb24", interpolation="BILINEAR"
    )
    return scaled.to_ndarray()


def top_level_boxes(path: Path) -> list[str]:
    """Types of an MP4 file's top-level boxes in file order, e.g. `['ftyp', 'moov', 'mdat']`.

    Raises:
        InputError: The file is not a sequence of well-formed ISO-BMFF boxes.
    """
    boxes: list[str] = []
    size_total = path.stat().st_size
    with open(path, "rb") as handle:
        offset = 0
        while offset < size_total:
            handle.seek(offset)
            header = handle.read(16)
            if len(header) < 8:
                raise InputError(path, "mp4", f"truncated box header at byte {offset}")
            size = int.from_bytes(header[:4], "big")
            if size == 1:  # 64-bit size follows the type (ISO/IEC 14496-12 §4.2)
                size = int.from_bytes(header[8:16], "big")
            elif size == 0:  # box extends to the end of the file
                size = size_total - offset
            if size < 8:
                raise InputError(path, "mp4", f"box of size {size} at byte {offset}")
            boxes.append(header[4:8].decode("latin-1"))
            offset += size
    return boxes

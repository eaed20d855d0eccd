"""Reading and writing H.264 video with PyAV: the one place robopref talks to FFmpeg."""

from __future__ import annotations

import threading
from collections.abc import Container, Iterable, Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import VideoReformatter

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
    frame_format: str = "rgb24",
) -> int:
    """Encode frames (RGB unless `frame_format` says otherwise) with libx264 into an MP4.

    Args:
        path: Output file (`.mp4`).
        frames: (H, W, 3) uint8 RGB frames, all the same size, H and W even for yuv420p;
            (H * 3 / 2, W) uint8 planar buffers with `frame_format="yuv420p"`.
        fps: Frame rate; rational rates such as 29.97 are kept to 1/1000 s.
        crf: Constant rate factor (0 lossless … 51 worst).
        preset: x264 speed preset.
        pix_fmt: Output pixel format.
        faststart: Put the moov atom before mdat so browsers can seek at once.
        codec: FFmpeg encoder name.
        threads: Encoder threads; None lets FFmpeg choose, 1 gives deterministic output.
        frame_format: `rgb24` or `yuv420p` (goes to a yuv420p encoder unconverted).

    Returns:
        The number of frames written.
    """
    options = {"movflags": "+faststart"} if faststart else {}
    count = 0
    with av.open(str(path), mode="w", format="mp4", options=options) as container:
        stream: av.video.stream.VideoStream | None = None
        for frame in frames:
            if stream is None:
                size = _frame_size(frame, frame_format)
                stream = _video_stream(container, path, codec=codec, fps=fps, size=size)
                stream.pix_fmt = pix_fmt
                stream.options = {"crf": str(crf), "preset": preset}
                if threads is not None:
                    stream.codec_context.thread_count = threads
            video_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), frame_format)
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
    size: tuple[int, int],
) -> av.video.stream.VideoStream:
    stream = container.add_stream(codec, rate=Fraction(fps).limit_denominator(1000))
    if not isinstance(stream, av.video.stream.VideoStream):
        raise InputError(path, "codec", f"{codec!r} is not a video encoder")
    stream.height, stream.width = size
    return stream


def _frame_size(frame: np.ndarray, frame_format: str) -> tuple[int, int]:
    """(height, width) of an ndarray frame in `frame_format`."""
    if frame_format == "yuv420p":
        return int(frame.shape[0]) * 2 // 3, int(frame.shape[1])
    return int(frame.shape[0]), int(frame.shape[1])


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


def iter_video_resized(
    path: Path,
    *,
    width: int,
    height: int,
    keep: Container[int] | None = None,
    crop_hw: tuple[int, int] | None = None,
    pix_fmt: str = "rgb24",
    threads: int | None = None,
) -> Iterator[tuple[int, np.ndarray]]:
    """Decode a video and yield chosen frames resized, without converting the others.

    Decoded frames go straight from the codec's pixel format to `pix_fmt` at the target
    size in one swscale call, much cheaper than converting to RGB and then resizing.

    Args:
        path: The video file.
        width: Output width in pixels.
        height: Output height in pixels.
        keep: Frame indices to yield; None yields every frame.
        crop_hw: Crop each frame to this (height, width) from the top left before resizing
            (drops padding added to reach even sizes).
        pix_fmt: `rgb24` ((height, width, 3) arrays) or `yuv420p` ((height * 3 / 2, width)).
        threads: Decoder threads; None lets FFmpeg choose (frame threading).

    Yields:
        (frame index, frame as an ndarray in `pix_fmt`).

    Raises:
        InputError: The file is missing or cannot be decoded.
    """
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            if threads is None:
                stream.thread_type = "AUTO"
            else:
                stream.codec_context.thread_count = threads
            for index, frame in enumerate(container.decode(stream)):
                if keep is None or index in keep:
                    yield index, _converted(frame, width, height, crop_hw, pix_fmt)
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


def _converted(
    frame: av.VideoFrame, width: int, height: int, crop_hw: tuple[int, int] | None, pix_fmt: str
) -> np.ndarray:
    if crop_hw is not None and (frame.height, frame.width) != crop_hw:
        rgb = frame.to_ndarray(format="rgb24")[: crop_hw[0], : crop_hw[1]]
        return resize_frame(rgb, width=width, height=height, pix_fmt=pix_fmt)
    scaled = _reformatter().reformat(
        frame, width=width, height=height, format=pix_fmt, interpolation="BILINEAR"
    )
    array: np.ndarray = scaled.to_ndarray()
    return array


_THREAD = threading.local()


def _reformatter() -> VideoReformatter:
    """This thread's swscale context cache.

    `VideoFrame.reformat` builds a new swscale context for every new frame (about 0.5 ms
    at 480 × 480); one reformatter reused across frames keeps its context.
    """
    reformatter: VideoReformatter | None = getattr(_THREAD, "reformatter", None)
    if reformatter is None:
        reformatter = _THREAD.reformatter = VideoReformatter()
    return reformatter


def resize_frame(
    frame: np.ndarray, *, width: int, height: int, pix_fmt: str = "rgb24"
) -> np.ndarray:
    """Rescale an RGB frame with FFmpeg's swscale (bilinear), optionally converting it.

    Args:
        frame: (H, W, 3) uint8 RGB.
        width: Output width in pixels.
        height: Output height in pixels.
        pix_fmt: Output format: `rgb24` ((height, width, 3)) or `yuv420p`
            ((height * 3 / 2, width)).

    Returns:
        The frame as an ndarray in `pix_fmt`.
    """
    if frame.shape[0] == height and frame.shape[1] == width and pix_fmt == "rgb24":
        return frame
    video_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
    scaled = _reformatter().reformat(
        video_frame, width=width, height=height, format=pix_fmt, interpolation="BILINEAR"
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

"""Camera frames a clip needs: their size, and the chosen steps streamed and resized."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from robopref.errors import InputError
from robopref.pool.layout import LazyFrames
from robopref.pool.trajectory import Trajectory
from robopref.video import iter_video_resized, resize_frame


def frames_origin(traj: Trajectory, camera: str) -> tuple[str, str]:
    """(path, field) for errors about the camera's frames: the MP4 file when there is one."""
    if isinstance(traj.frames, LazyFrames) and camera in traj.cameras:
        return str(traj.frames.path(camera)), "frames"
    return f"trajectory {traj.trajectory_id!r}", f"frames[{camera!r}]"


def _check_camera(traj: Trajectory, camera: str) -> None:
    if camera not in traj.frames:
        where = f"trajectory {traj.trajectory_id!r}"
        raise InputError(where, f"frames[{camera!r}]", f"no such camera; has {traj.cameras}")


def source_shape(traj: Trajectory, camera: str) -> tuple[int, int]:
    """(height, width) of the camera's frames, without decoding any.

    Raises:
        InputError: The trajectory has no such camera.
    """
    _check_camera(traj, camera)
    if isinstance(traj.frames, LazyFrames):
        return traj.frames.frame_size(camera)
    shape = np.shape(traj.frames[camera])
    return int(shape[1]), int(shape[2])


def resized_frames(
    traj: Trajectory, camera: str, *, steps: np.ndarray, width: int, height: int
) -> Iterator[tuple[int, np.ndarray]]:
    """Frames of the given steps as yuv420p buffers of `width` × `height`, in step order.

    A pool trajectory's frames stream from its MP4 (a long episode is never held in memory
    whole) and the steps a clip skips are decoded but never converted.

    Args:
        traj: The trajectory.
        camera: Its camera.
        steps: Sorted, unique step indices.
        width: Output width in pixels.
        height: Output height in pixels.

    Yields:
        (step, (height * 3 / 2, width) uint8 yuv420p buffer).

    Raises:
        InputError: The trajectory has no such camera, or too few frames.
    """
    _check_camera(traj, camera)
    wanted = sorted({int(s) for s in steps})
    if not wanted:
        return
    frames = traj.frames
    if isinstance(frames, LazyFrames):
        path, crop = frames.path(camera), frames.frame_size(camera)
        source = iter_video_resized(
            path, width=width, height=height, keep=set(wanted), crop_hw=crop,
            pix_fmt="yuv420p", threads=1,
        )  # fmt: skip
    else:
        array = np.asarray(frames[camera])
        source = (
            (s, resize_frame(array[s], width=width, height=height, pix_fmt="yuv420p"))
            for s in wanted
            if s < len(array)
        )
    for step, frame in source:
        yield step, frame
        if step == wanted[-1]:
            return
    where, field = frames_origin(traj, camera)
    raise InputError(where, field, f"ends before step {wanted[-1]}")

"""Per-trajectory files in a pool folder: arrays.npz, meta.json and one MP4 per camera.

Layout of `POOL/trajectories/<trajectory_id>/` (readable with numpy, json and PyAV alone):

- `arrays.npz` — `state` (T,S) f4, `action` (T,A) f4, `gripper` (T,) f4, `ee_pos` (T,3) f4,
  `timestamps_s` (T,) f8, optional `force`, `clearance`, `goal_distance`, `env_reward` (T,)
  f4, and the contact log as `contact_step` i8, `contact_body` str, `contact_force_n` f4,
  `contact_toppled` bool. No pickled objects (`np.load(..., allow_pickle=False)` works).
- `meta.json` — task, env_id, source, fps, success, success_step, metadata, and per camera
  its file, frame count and size.
- `<camera>.mp4` — H.264 frames, one per step (see docs/pool.md for why video).
"""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from numpy.lib.npyio import NpzFile

from robopref.errors import InputError
from robopref.json_files import read_json_object
from robopref.pool.schema import SCHEMA_VERSION
from robopref.pool.trajectory import ContactLog, Trajectory, is_integer, is_number
from robopref.safe_paths import MAX_PART_CHARS, check_name, is_safe_name, path_inside
from robopref.video import read_video, write_video

OPTIONAL_SERIES = ("force", "clearance", "goal_distance", "env_reward")
ARRAYS = "arrays.npz"
META = "meta.json"
REQUIRED_ARRAYS = (
    "state",
    "action",
    "gripper",
    "ee_pos",
    "timestamps_s",
    "contact_step",
    "contact_body",
    "contact_force_n",
    "contact_toppled",
)
"""Keys every arrays.npz holds (OPTIONAL_SERIES may be absent)."""
ARRAY_FIELDS = frozenset({*REQUIRED_ARRAYS, *OPTIONAL_SERIES, "contacts"})
"""Trajectory fields read from arrays.npz (errors in them name that file, others meta.json)."""


def write_trajectory_files(traj: Trajectory, directory: Path, *, frame_crf: int = 17) -> None:
    """Write one trajectory's files into `directory` (created; must not hold another one)."""
    directory.mkdir(parents=True, exist_ok=False)
    arrays: dict[str, np.ndarray] = {
        "state": traj.state.astype(np.float32),
        "action": traj.action.astype(np.float32),
        "gripper": traj.gripper.astype(np.float32),
        "ee_pos": traj.ee_pos.astype(np.float32),
        "timestamps_s": traj.times_s.astype(np.float64),
        "contact_step": traj.contacts.step.astype(np.int64),
        "contact_body": traj.contacts.body.astype(str),
        "contact_force_n": traj.contacts.force_n.astype(np.float32),
        "contact_toppled": traj.contacts.toppled.astype(bool),
    }
    for name in OPTIONAL_SERIES:
        value = getattr(traj, name)
        if value is not None:
            arrays[name] = value.astype(np.float32)
    np.savez(directory / ARRAYS, **arrays)  # type: ignore[arg-type]
    cameras = {}
    for camera in traj.cameras:
        frames = np.asarray(traj.frames[camera])
        filename = f"{camera}.mp4"
        write_video(
            directory / filename, _even(frames), fps=traj.fps, crf=frame_crf, preset="veryfast"
        )
        cameras[camera] = {
            "file": filename,
            "n_frames": int(frames.shape[0]),
            "height": int(frames.shape[1]),
            "width": int(frames.shape[2]),
        }
    meta = {
        "schema_version": SCHEMA_VERSION,
        "trajectory_id": traj.trajectory_id,
        "task": traj.task,
        "env_id": traj.env_id,
        "source": traj.source,
        "fps": traj.fps,
        "success": traj.success,
        "success_step": traj.success_step,
        "metadata": dict(traj.metadata),
        "cameras": cameras,
    }
    (directory / META).write_text(json.dumps(meta, indent=1))


def _even(frames: np.ndarray) -> Iterator[np.ndarray]:
    """Frames padded by edge replication to even height and width (yuv420p needs it)."""
    pad_h, pad_w = frames.shape[1] % 2, frames.shape[2] % 2
    for frame in frames:
        yield (
            np.pad(frame, ((0, pad_h), (0, pad_w), (0, 0)), mode="edge")
            if pad_h or pad_w
            else frame
        )


class CameraFile(NamedTuple):
    """One camera of a stored trajectory, as meta.json describes it (checked)."""

    path: Path
    """The MP4 file, inside the trajectory's folder."""
    n_frames: int
    """Frames stored (one per step)."""
    height: int
    """Frame height in pixels (the MP4 may be padded to an even size)."""
    width: int
    """Frame width in pixels."""


class LazyFrames(Mapping[str, np.ndarray]):
    """Camera → frames mapping that decodes a camera's MP4 on first access."""

    def __init__(self, cameras: Mapping[str, CameraFile]) -> None:
        self._cameras = dict(cameras)
        self._cache: dict[str, np.ndarray] = {}

    def __getitem__(self, camera: str) -> np.ndarray:
        if camera not in self._cache:
            info = self._cameras[camera]
            _, frames = read_video(info.path)
            if len(frames) != info.n_frames:
                raise InputError(
                    info.path, "n_frames", f"decoded {len(frames)}, expected {info.n_frames}"
                )
            if frames.shape[1] < info.height or frames.shape[2] < info.width:
                raise InputError(
                    info.path,
                    "height",
                    f"decoded {frames.shape[1]}×{frames.shape[2]} frames, meta.json says"
                    f" {info.height}×{info.width}",
                )
            self._cache[camera] = frames[:, : info.height, : info.width]
        return self._cache[camera]

    def __iter__(self) -> Iterator[str]:
        return iter(self._cameras)

    def __contains__(self, camera: object) -> bool:
        return camera in self._cameras  # without decoding (Mapping's default would)

    def __len__(self) -> int:
        return len(self._cameras)

    def path(self, camera: str) -> Path:
        """The MP4 file of `camera` (checked to lie inside the trajectory's folder)."""
        return self._cameras[camera].path

    def n_frames(self, camera: str) -> int:
        """Frame count of `camera` without decoding."""
        return self._cameras[camera].n_frames

    def frame_size(self, camera: str) -> tuple[int, int]:
        """(height, width) of `camera`'s frames without decoding.

        The MP4 may be padded to even sizes; crop decoded frames to this.
        """
        info = self._cameras[camera]
        return info.height, info.width


def read_trajectory_files(directory: Path) -> Trajectory:
    """Read a trajectory written by `write_trajectory_files`; frames decode lazily.

    Every problem with the files is an InputError naming the file (`meta.json`,
    `arrays.npz`, a camera's MP4 when decoded) and the field: missing or truncated files,
    keys of the wrong type, arrays of the wrong shape or dtype, a camera file outside the
    folder, an id that is not the folder's name.
    """
    meta_path = directory / META
    meta = read_meta(meta_path)
    if meta["trajectory_id"] != directory.name:
        raise InputError(
            meta_path,
            "trajectory_id",
            f"{meta['trajectory_id']!r} is not the name of its folder {directory.name!r}",
        )
    cameras = camera_files(meta["cameras"], directory, meta_path)
    arrays = read_arrays(directory / ARRAYS)
    fps = meta["fps"]
    try:
        return Trajectory(
            trajectory_id=meta["trajectory_id"],
            task=meta["task"],
            env_id=meta["env_id"],
            source=meta["source"],
            fps=float(fps) if is_number(fps) else fps,
            state=arrays["state"],
            action=arrays["action"],
            gripper=arrays["gripper"],
            ee_pos=arrays["ee_pos"],
            timestamps_s=arrays["timestamps_s"],
            frames=LazyFrames(cameras),
            contacts=ContactLog(
                step=arrays["contact_step"],
                body=arrays["contact_body"],
                force_n=arrays["contact_force_n"],
                toppled=arrays["contact_toppled"],
            ),
            success=meta["success"],
            success_step=meta["success_step"],
            metadata=meta["metadata"],
            **{name: arrays.get(name) for name in OPTIONAL_SERIES},
        )
    except InputError as exc:
        field = exc.field.split(".")[0].split(" ")[0]
        where = directory / (ARRAYS if field in ARRAY_FIELDS else META)
        raise InputError(where, exc.field, exc.message) from exc


META_KEYS = (
    "trajectory_id",
    "task",
    "env_id",
    "source",
    "fps",
    "success",
    "success_step",
    "metadata",
    "cameras",
)
"""Keys every meta.json holds besides schema_version (values checked by Trajectory)."""


def read_meta(path: Path) -> dict[str, Any]:
    """The meta.json at `path`: an object with a supported schema_version and every key.

    Raises:
        InputError: Missing or unreadable, not an object, another version, a key missing.
    """
    meta = read_json_object(path, field=META)
    version = meta.get("schema_version")
    if type(version) is not int or version != SCHEMA_VERSION:
        raise InputError(path, "schema_version", f"unsupported {version!r}")
    missing = [key for key in META_KEYS if key not in meta]
    if missing:
        raise InputError(path, missing[0], f"missing ({len(missing)} keys in all)")
    return meta


def camera_files(cameras: object, directory: Path, meta_path: Path) -> dict[str, CameraFile]:
    """The `cameras` object of a meta.json, checked: safe names, files inside `directory`.

    Raises:
        InputError: Naming meta.json and `cameras.<name>.<key>`.
    """
    if not isinstance(cameras, dict):
        raise InputError(meta_path, "cameras", f"expected an object, got {type(cameras).__name__}")
    checked = {}
    for camera, info in cameras.items():
        check_name(camera, path=meta_path, field="cameras")
        where = f"cameras.{camera}"
        if not isinstance(info, dict):
            raise InputError(meta_path, where, f"expected an object, got {type(info).__name__}")
        for key, low in (("n_frames", 0), ("height", 1), ("width", 1)):
            value = info.get(key)
            if not (is_integer(value) and low <= value < 2**31):
                raise InputError(
                    meta_path, f"{where}.{key}", f"must be an integer ≥ {low}, got {value!r}"
                )
        file = info.get("file")
        if not is_safe_name(file, max_chars=MAX_PART_CHARS):  # a camera name + ".mp4"
            check_name(file, path=meta_path, field=f"{where}.file")
        try:
            video = path_inside(directory, str(file))
        except InputError as exc:
            raise InputError(meta_path, f"{where}.file", exc.message) from exc
        checked[camera] = CameraFile(video, info["n_frames"], info["height"], info["width"])
    return checked


NPZ_ERRORS = (
    OSError,
    ValueError,
    EOFError,
    KeyError,
    zipfile.BadZipFile,
    zlib.error,
    struct.error,
)
"""What numpy and zipfile raise on a truncated, corrupt or pickled arrays.npz."""


def read_arrays(path: Path) -> dict[str, np.ndarray]:
    """The arrays of an arrays.npz, loaded without pickle; every required key present.

    Raises:
        InputError: Missing, unreadable, holds pickled objects, or lacks a required key.
    """
    if not path.is_file():
        raise InputError(path, ARRAYS, "missing")
    try:
        npz = np.load(path, allow_pickle=False)
        if not isinstance(npz, NpzFile):
            raise InputError(path, ARRAYS, "holds a single array, not an .npz archive")
        with npz:
            arrays = {key: npz[key] for key in npz.files}
    except NPZ_ERRORS as exc:
        raise InputError(path, ARRAYS, f"unreadable: {exc}") from exc
    missing = [key for key in REQUIRED_ARRAYS if key not in arrays]
    if missing:
        raise InputError(path, missing[0], f"missing ({len(missing)} arrays in all)")
    return arrays

"""Per-trajectory files in a pool folder: arrays.npz, meta.json and one MP4 per camera.

Layout of `POOL/trajectories/<trajectory_id>/` (readable with numpy, json and PyAV alone):

- `arrays.npz` — `state` (T,S) f4, `action` (T,A) f4, `gripper` (T,) f4, `ee_pos` (T,3) f4,
  `timestamps_s` (T,) f8, optional `force`, `clearance`, `goal_distance` (T,) f4, and the
  contact log as `contact_step` i8, `contact_body` str, `contact_force_n` f4,
  `contact_toppled` bool. No pickled objects (`np.load(..., allow_pickle=False)` works).
- `meta.json` — task, env_id, source, fps, success, success_step, metadata, and per camera
  its file, frame count and size.
- `<camera>.mp4` — H.264 frames, one per step (see docs/pool.md for why video).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from robopref.errors import InputError
from robopref.pool.schema import SCHEMA_VERSION
from robopref.pool.trajectory import ContactLog, Trajectory
from robopref.video import read_video, write_video

OPTIONAL_SERIES = ("force", "clearance", "goal_distance")


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
    np.savez(directory / "arrays.npz", **arrays)  # type: ignore[arg-type]
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
    (directory / "meta.json").write_text(json.dumps(meta, indent=1))


def _even(frames: np.ndarray) -> Iterator[np.ndarray]:
    """Frames padded by edge replication to even height and width (yuv420p needs it)."""
    pad_h, pad_w = frames.shape[1] % 2, frames.shape[2] % 2
    for frame in frames:
        yield (
            np.pad(frame, ((0, pad_h), (0, pad_w), (0, 0)), mode="edge")
            if pad_h or pad_w
            else frame
        )


class LazyFrames(Mapping[str, np.ndarray]):
    """Camera → frames mapping that decodes a camera's MP4 on first access."""

    def __init__(self, directory: Path, cameras: Mapping[str, Mapping[str, Any]]) -> None:
        self._directory = directory
        self._cameras = dict(cameras)
        self._cache: dict[str, np.ndarray] = {}

    def __getitem__(self, camera: str) -> np.ndarray:
        if camera not in self._cache:
            info = self._cameras[camera]
            path = self._directory / str(info["file"])
            _, frames = read_video(path)
            if len(frames) != info["n_frames"]:
                raise InputError(
                    path, "n_frames", f"decoded {len(frames)}, expected {info['n_frames']}"
                )
            self._cache[camera] = frames[:, : info["height"], : info["width"]]
        return self._cache[camera]

    def __iter__(self) -> Iterator[str]:
        return iter(self._cameras)

    def __contains__(self, camera: object) -> bool:
        return camera in self._cameras  # without decoding (Mapping's default would)

    def __len__(self) -> int:
        return len(self._cameras)

    def path(self, camera: str) -> Path:
        """The MP4 file of `camera`."""
        return self._directory / str(self._cameras[camera]["file"])

    def n_frames(self, camera: str) -> int:
        """Frame count of `camera` without decoding."""
        return int(self._cameras[camera]["n_frames"])

    def frame_size(self, camera: str) -> tuple[int, int]:
        """(height, width) of `camera`'s frames without decoding.

        The MP4 may be padded to even sizes; crop decoded frames to this.
        """
        info = self._cameras[camera]
        return int(info["height"]), int(info["width"])


def read_trajectory_files(directory: Path) -> Trajectory:
    """Read a trajectory written by `write_trajectory_files`; frames decode lazily."""
    meta_path = directory / "meta.json"
    try:
        meta = json.loads(meta_path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(meta_path, "meta.json", f"unreadable: {exc}") from exc
    if meta.get("schema_version") != SCHEMA_VERSION:
        raise InputError(meta_path, "schema_version", f"unsupported {meta.get('schema_version')!r}")
    with np.load(directory / "arrays.npz", allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    return Trajectory(
        trajectory_id=meta["trajectory_id"],
        task=meta["task"],
        env_id=meta["env_id"],
        source=meta["source"],
        fps=float(meta["fps"]),
        state=arrays["state"],
        action=arrays["action"],
        gripper=arrays["gripper"],
        ee_pos=arrays["ee_pos"],
        timestamps_s=arrays["timestamps_s"],
        frames=LazyFrames(directory, meta["cameras"]),
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

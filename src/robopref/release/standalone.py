"""Score a robot trajectory with a robopref reward model: ONNX Runtime and NumPy only.

This file is copied into every release as `inference.py`; it never imports robopref.

Usage (from the release folder, or pass --model-dir):

    python inference.py --npz trajectory.npz --instruction "open the drawer"
    python inference.py --pool path/to/pool --id traj-0001 [--id traj-0002 ...]

Input (see MODEL_CARD.md for this model's numbers):

- `.npz`: `state` (T, S) float32, `action` (T, A) float32, `frames` (T, H, W, 3) uint8 RGB
  (image models only; any H, W), optional `instruction` (a string); T ≥ 2, any length;
  state models with the time or motion features also need `timestamps_s` (T,) seconds or `fps`.
- `.npz` for a pretrained-backbone model (reward_model.json `input` is `pretrained_frames`):
  the frames of every camera in `cameras`, each (T, H, W, 3) uint8 RGB at its stored size
  (the graph resizes them; all cameras of one size): `frames` for a model of one camera (or
  `frames_<camera>`), `frames_<camera>` (e.g. `frames_front`, `frames_side`) for several;
  `timestamps_s` (T,) or `fps` when the model reads frame times (`time_feature`), and
  `state`/`action` only if it also reads state (`with_state`); optional `instruction`.
- pool folder: `POOL/trajectories/<id>/arrays.npz` and `meta.json` (the instruction is the
  trajectory's task); image models also read `<camera>.mp4` (a pretrained-backbone model each
  of its `cameras`), which needs PyAV (`pip install av`).

The script subsamples T steps to the model's fixed `n_steps` (nearest step of
linspace(0, T − 1, n_steps)), resizes frames to `image_size` (antialiased bilinear, as in
training: at most one grey level off on a few pixels; a pretrained-backbone model's frames go
in at their stored size, stacked (n_steps, cameras, H, W, 3), and `steps` holds the elapsed
seconds of the sampled frames since the first one), looks the instruction up among the
training tasks (or reads `--task-embedding FILE.npy`, a (384,) L2-normalised
all-MiniLM-L6-v2 embedding), runs the ONNX graph, and prints one reward per trajectory
(`<reward>` for one, `<id> <reward>` lines for several).

On input it cannot score — a missing or truncated model file, a malformed reward_model.json,
an array missing or of the wrong shape, dtype or step count, NaN, empty frames, an unknown
instruction — it exits with code 2 and one line `error: <file>: <field>: <message>`, and
prints no reward at all: every trajectory is checked and scored before anything is printed,
and a reward that is not a finite number is an error too.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

SPEC_FILE = "reward_model.json"
SPEC_SCHEMA_VERSION = 1
MAX_SIZE = 4096
"""Largest n_steps, state/action/step width or image size a spec may declare."""
MAX_CAMERAS = 64
"""Most cameras a pretrained-backbone spec may list."""
INPUT_KINDS = ("state", "frames", "pretrained_frames")
"""What a model reads: state + action, one camera's resized frames, or raw frames of cameras."""
SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
"""Trajectory ids and file names read from the command line or a pool's meta.json."""
SPEC_KINDS = {
    "schema_version": "int", "onnx": "str", "input": "str", "n_steps": "int", "state_dim": "int",
    "action_dim": "int", "step_dim": "int", "language_dim": "int", "with_state": "bool",
    "time_feature": "bool", "motion_features": "bool", "language": "bool", "image_size": "int?",
    "camera": "str?", "cameras": "list?", "task_embeddings": "dict",
}  # fmt: skip
"""reward_model.json fields the script reads, with their JSON kinds (`?`: or null)."""
NPZ_ERRORS = (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error)


class BadInput(Exception):
    """Input the script cannot score; printed as `error: <file>: <field>: <message>`."""

    def __init__(self, file: object, field: str, message: str) -> None:
        super().__init__(f"{file}: {field}: {message}")


def subsample_indices(n_total: int, n_steps: int) -> np.ndarray:
    """Evenly spaced step indices (nearest step), first and last included."""
    return np.rint(np.linspace(0, n_total - 1, n_steps)).astype(np.int64)


def _aa_weights(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) antialiased bilinear (triangle filter) weights, align_corners=False."""
    scale = n_in / n_out
    support = scale if scale > 1.0 else 1.0
    inverse = 1.0 / scale if scale > 1.0 else 1.0
    weights = np.zeros((n_out, n_in), np.float64)
    for i in range(n_out):
        centre = scale * (i + 0.5)
        lo = max(int(centre - support + 0.5), 0)
        hi = min(int(centre + support + 0.5), n_in)
        j = np.arange(lo, hi)
        k = np.clip(1.0 - np.abs((j - centre + 0.5) * inverse), 0.0, None)
        weights[i, lo:hi] = k / k.sum()
    return weights


def resize_frames(frames: np.ndarray, size: int) -> np.ndarray:
    """(T, H, W, 3) uint8 → (T, size, size, 3) uint8, antialiased bilinear."""
    if frames.shape[1] == size and frames.shape[2] == size:
        return np.ascontiguousarray(frames)
    rows = _aa_weights(frames.shape[1], size)
    x: np.ndarray = np.einsum("oh,thwc->towc", rows, frames.astype(np.float64))
    x = np.einsum("pw,towc->topc", _aa_weights(frames.shape[2], size), x)
    out: np.ndarray = np.clip(np.rint(x), 0, 255).astype(np.uint8)
    return out


def _is(value: Any, kind: str) -> bool:
    """True if `value` is of the JSON kind `kind` (int, bool, str, dict, list; `?`: or null)."""
    if value is None and kind.endswith("?"):
        return True
    kind = kind.rstrip("?")
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, {"bool": bool, "str": str, "dict": dict, "list": list}[kind])


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def read_spec(model_dir: Path) -> dict[str, Any]:
    """reward_model.json, every field the script reads of the right kind and consistent."""
    path = model_dir / SPEC_FILE
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise BadInput(path, "model", f"unreadable ({exc})") from exc
    if not isinstance(spec, dict):
        raise BadInput(path, SPEC_FILE, "expected a JSON object")
    for key, kind in SPEC_KINDS.items():
        if key not in spec:
            raise BadInput(path, key, "missing")
        if not _is(spec[key], kind):
            wanted = kind.rstrip("?") + (" or null" if kind.endswith("?") else "")
            raise BadInput(path, key, f"expected {wanted}, got {_shown(spec.get(key))}")
    if spec["schema_version"] != SPEC_SCHEMA_VERSION:
        raise BadInput(path, "schema_version", f"{spec['schema_version']} is not 1")
    if spec["input"] not in INPUT_KINDS:
        raise BadInput(path, "input", f"{_shown(spec['input'])} is not one of {list(INPUT_KINDS)}")
    if not SAFE_NAME.fullmatch(spec["onnx"]) or ".." in spec["onnx"]:
        raise BadInput(path, "onnx", f"{_shown(spec['onnx'])} is not a file name in the folder")
    sizes = ["n_steps", "state_dim", "action_dim"] + ["image_size"] * (spec["input"] == "frames")
    for key in sizes:
        if not _is(spec[key], "int") or not 1 <= spec[key] <= MAX_SIZE:
            raise BadInput(path, key, f"{_shown(spec[key])} is not an integer in [1, {MAX_SIZE}]")
    if spec["input"] == "pretrained_frames":
        _check_cameras(spec, path)
    _check_step_dim(spec, path)
    _check_language(spec, path)
    return spec


def _check_cameras(spec: dict[str, Any], path: Path) -> None:
    """A pretrained-backbone spec lists its cameras: distinct plain names, in order."""
    cameras = spec["cameras"]
    if (
        not isinstance(cameras, list)
        or not 1 <= len(cameras) <= MAX_CAMERAS
        or not all(isinstance(c, str) and SAFE_NAME.fullmatch(c) for c in cameras)
        or len(set(cameras)) != len(cameras)
    ):
        raise BadInput(
            path, "cameras", f"{_shown(cameras)} is not a list of 1 to {MAX_CAMERAS} distinct "
            "camera names",
        )  # fmt: skip


def reads_steps(spec: dict[str, Any]) -> bool:
    """True if the graph reads per-step state + action (state model, or image + state)."""
    return bool(spec["input"] == "state" or spec["with_state"])


def reads_frame_times(spec: dict[str, Any]) -> bool:
    """True if `steps` holds the sampled frames' elapsed seconds (frames-only pretrained model)."""
    return bool(spec["input"] == "pretrained_frames" and not spec["with_state"]
                and spec["time_feature"])  # fmt: skip


def _check_step_dim(spec: dict[str, Any], path: Path) -> None:
    """step_dim = S + A [+ 1 elapsed time] [+ 2·S + A motion statistics]."""
    s, a = spec["state_dim"], spec["action_dim"]
    width = s + a + int(spec["time_feature"]) + (2 * s + a) * int(spec["motion_features"])
    if reads_steps(spec) and spec["step_dim"] != width:
        raise BadInput(
            path, "step_dim", f"{spec['step_dim']} does not fit state_dim, action_dim and the "
            f"time and motion features ({width})"
        )  # fmt: skip
    if reads_frame_times(spec) and spec["step_dim"] != 1:
        raise BadInput(path, "step_dim", f"{spec['step_dim']} is not 1 (each frame's time)")


def _check_language(spec: dict[str, Any], path: Path) -> None:
    """language_dim > 0 and every shipped task embedding that many finite numbers."""
    if not spec["language"]:
        return
    dim = spec["language_dim"]
    if not 1 <= dim <= MAX_SIZE:
        raise BadInput(path, "language_dim", f"{dim} is not in [1, {MAX_SIZE}]")
    for task, vector in spec["task_embeddings"].items():
        numbers = isinstance(vector, list) and all(
            _is(v, "int") or isinstance(v, float) for v in vector
        )
        array = np.asarray(vector, np.float64) if numbers else np.zeros(0)
        if array.shape != (dim,) or not np.isfinite(array).all():
            raise BadInput(path, "task_embeddings", f"{_shown(task)}: need {dim} finite numbers")


def load_npz(path: Path) -> dict[str, Any]:
    """A trajectory's arrays from an .npz file (keys: state, action, frames, instruction, …)."""
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise BadInput(path, "file", "not an .npz archive of named arrays")
        with loaded as npz:
            data: dict[str, Any] = {key: npz[key] for key in npz.files}
    except NPZ_ERRORS as exc:
        raise BadInput(path, "file", f"unreadable ({exc})") from exc
    if "instruction" in data:
        value = data["instruction"]
        if value.dtype.kind != "U" or value.ndim != 0:
            raise BadInput(path, "instruction", f"need a string, got {value.dtype} {value.shape}")
        data["instruction"] = str(value)
    data["name"], data["file"], data["origins"] = str(path), path, {}
    return data


def _safe_name(name: Any, file: object, field: str) -> str:
    if not isinstance(name, str) or not SAFE_NAME.fullmatch(name) or ".." in name:
        raise BadInput(file, field, f"{_shown(name)} is not a plain name (letters, digits, . _ -)")
    return name


def load_pool_trajectory(
    pool: Path, trajectory_id: str, camera: str | None, cameras: list[str] | None = None
) -> dict[str, Any]:
    """A trajectory from a robopref pool folder.

    Frames only for image models: `frames` of `camera` ("" for the first one), or, for a
    pretrained-backbone model, `frames_<camera>` of each of `cameras` (with its MP4 as the
    file errors name).
    """
    _safe_name(trajectory_id, pool, "--id")
    folder = pool / "trajectories" / trajectory_id
    meta_file = folder / "meta.json"
    if not meta_file.is_file():
        raise BadInput(pool, "--id", f"no trajectory {trajectory_id!r} in this pool")
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise BadInput(meta_file, "meta.json", f"unreadable ({exc})") from exc
    if not isinstance(meta, dict) or not isinstance(meta.get("task"), str) or not meta["task"]:
        raise BadInput(meta_file, "task", "need a JSON object with a non-empty task string")
    data = load_npz(folder / "arrays.npz")
    data["instruction"], data["name"] = meta["task"], trajectory_id
    if camera is not None:
        data["frames"] = _camera_frames(folder, meta.get("cameras"), camera, meta_file)
    for name in cameras or []:
        data[f"frames_{name}"] = _camera_frames(folder, meta.get("cameras"), name, meta_file)
        data["origins"][f"frames_{name}"] = (folder / meta["cameras"][name]["file"], "frames")
    fps = meta.get("fps")
    if "timestamps_s" not in data and "fps" not in data and isinstance(fps, int | float):
        data["fps"] = np.asarray(fps)  # pools written before timestamps were stored
    return data


def _camera_frames(folder: Path, cameras: Any, camera: str, meta_file: Path) -> np.ndarray:
    """The decoded frames of `camera` ("" for the trajectory's first camera)."""
    if isinstance(cameras, dict) and not camera and cameras:
        camera = next(iter(cameras))
    if not isinstance(cameras, dict) or not isinstance(cameras.get(camera), dict):
        raise BadInput(meta_file, "cameras", f"no camera {camera!r}, which this model reads")
    info = cameras[camera]
    name = _safe_name(info.get("file"), meta_file, f"cameras.{camera}.file")
    for key in ("n_frames", "height", "width"):
        if not _is(info.get(key), "int") or info[key] < 1:
            raise BadInput(meta_file, f"cameras.{camera}.{key}", "need a positive integer")
    frames = _decode(folder / name)
    return frames[: info["n_frames"], : info["height"], : info["width"]]


def _decode(path: Path) -> np.ndarray:
    try:
        import av
    except ImportError as exc:
        raise BadInput(path, "frames", "decoding MP4 needs PyAV (pip install av)") from exc
    try:
        with av.open(str(path)) as container:
            decoded = [np.asarray(f.to_ndarray(format="rgb24")) for f in container.decode(video=0)]
    except (OSError, ValueError, IndexError, av.FFmpegError) as exc:  # IndexError: no video
        raise BadInput(path, "frames", f"cannot decode ({exc!r})") from exc
    if not decoded:
        raise BadInput(path, "frames", "no frames")
    return np.stack(decoded)


def check_arrays(traj: dict[str, Any], spec: dict[str, Any]) -> None:
    """Refuse arrays the model cannot read; leaves state and action as float32 (T, ·)."""
    if spec["input"] == "pretrained_frames":
        _check_pretrained(traj, spec)
        return
    state, action = _steps_arrays(traj, spec, widths=reads_steps(spec))
    if reads_steps(spec) and (spec["time_feature"] or spec["motion_features"]):
        traj["times"] = elapsed_s(traj, len(state))
    if spec["input"] == "frames":
        _check_frames(traj, len(state))
    traj["state"], traj["action"] = state, action


def _matrix(traj: dict[str, Any], key: str) -> np.ndarray:
    if key not in traj:
        raise BadInput(traj["file"], key, "missing")
    array = traj[key]
    if array.dtype.kind not in "fiu" or array.ndim != 2:
        raise BadInput(traj["file"], key, f"need a (T, ·) numeric array, got {array.dtype} "
                       f"{array.shape}")  # fmt: skip
    if not np.isfinite(array).all():
        raise BadInput(traj["file"], key, "contains NaN or infinite values")
    return np.asarray(array, np.float32)


def _check_frames(traj: dict[str, Any], n: int) -> None:
    frames, file = traj.get("frames"), traj["file"]
    if frames is None:
        raise BadInput(file, "frames", "missing: this image model reads (T, H, W, 3) uint8 RGB")
    if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[3] != 3:
        raise BadInput(file, "frames", f"need (T, H, W, 3) uint8 RGB frames, got {frames.dtype} "
                       f"{frames.shape}")  # fmt: skip
    if not (frames.shape[1] and frames.shape[2]):
        raise BadInput(file, "frames", f"empty frames of shape {frames.shape}")
    if len(frames) != n:
        raise BadInput(file, "frames", f"{len(frames)} frames for {n} steps")


def camera_keys(traj: dict[str, Any], spec: dict[str, Any]) -> list[str]:
    """The keys holding each camera's frames: `frames_<camera>`, or `frames` for one camera."""
    cameras = list(spec["cameras"])
    keys = [f"frames_{camera}" for camera in cameras]
    if len(keys) == 1 and keys[0] not in traj and "frames" in traj:
        return ["frames"]
    for key in keys:
        if key not in traj:
            one = len(keys) == 1
            raise BadInput(
                traj["file"], "frames" if one else key, "missing: this model reads (T, H, W, 3) "
                f"uint8 RGB frames of cameras {cameras}, as "
                + ("`frames` (or `frames_<camera>`)" if one else "`frames_<camera>` each"),
            )  # fmt: skip
    return keys


def _check_pretrained(traj: dict[str, Any], spec: dict[str, Any]) -> None:
    """Frames of every camera (one size, one count), state if read, frame times if read.

    Leaves `camera_frames` (the arrays in camera order) and `n` (the step count) in `traj`.
    """
    n = None
    if reads_steps(spec):
        traj["state"], traj["action"] = _steps_arrays(traj, spec, widths=True)
        n = len(traj["state"])
    frames: list[np.ndarray] = []
    where: tuple[object, str] | None = None  # the first camera's file and field
    for camera, key in zip(spec["cameras"], camera_keys(traj, spec), strict=True):
        file, field = traj.get("origins", {}).get(key, (traj["file"], key))
        array = _camera_array(traj[key], file, field, n)
        if frames and array.shape[1:3] != frames[0].shape[1:3]:
            (h, w), first = frames[0].shape[1:3], spec["cameras"][0]
            raise BadInput(
                file, field, f"{array.shape[1]}×{array.shape[2]} frames of camera {camera!r}, but "
                f"camera {first!r} gives {h}×{w}: this model's cameras must share one frame size",
            )  # fmt: skip
        frames.append(array)
        where, n = where or (file, field), len(array)
    if where is None or n is None or n < 2:
        file, field = where or (traj["file"], "frames")
        raise BadInput(file, field, f"need T ≥ 2 frames, got {n}")
    if spec["time_feature"] or spec["motion_features"]:
        traj["times"] = elapsed_s(traj, n)
    traj["camera_frames"], traj["n"] = frames, n


def _camera_array(frames: Any, file: object, field: str, n: int | None) -> np.ndarray:
    """(T, H, W, 3) uint8 RGB frames of one camera, T = `n` when the step count is known."""
    if (
        not isinstance(frames, np.ndarray)
        or frames.dtype != np.uint8
        or frames.ndim != 4
        or frames.shape[3] != 3
    ):
        got = f"{frames.dtype} {frames.shape}" if isinstance(frames, np.ndarray) else "no array"
        raise BadInput(file, field, f"need (T, H, W, 3) uint8 RGB frames, got {got}")
    if not (frames.shape[1] and frames.shape[2]):
        raise BadInput(file, field, f"empty frames of shape {frames.shape}")
    if n is not None and len(frames) != n:
        raise BadInput(file, field, f"{len(frames)} frames for {n} steps")
    return frames


def _steps_arrays(
    traj: dict[str, Any], spec: dict[str, Any], *, widths: bool
) -> tuple[np.ndarray, np.ndarray]:
    """State and action as float32 (T, ·), T ≥ 2, of the spec's widths if `widths`."""
    file = traj["file"]
    state, action = (_matrix(traj, key) for key in ("state", "action"))
    if len(state) != len(action):
        raise BadInput(file, "action", f"{len(action)} steps for {len(state)} states")
    if len(state) < 2:
        raise BadInput(file, "state", f"need T ≥ 2 steps, got {len(state)}")
    for key, array in (("state", state), ("action", action)) if widths else ():
        if array.shape[1] != spec[f"{key}_dim"]:
            raise BadInput(
                file, key, f"{array.shape[1]} columns, model expects {spec[f'{key}_dim']}"
            )
    return state, action


def elapsed_s(traj: dict[str, Any], n: int) -> np.ndarray:
    """(T,) source time of each step: `timestamps_s`, else step / `fps`."""
    file = traj["file"]
    if "timestamps_s" in traj:
        times = traj["timestamps_s"]
        if times.dtype.kind not in "fiu" or times.shape != (n,):
            raise BadInput(file, "timestamps_s", f"need ({n},) numbers, got {times.dtype} "
                           f"{times.shape}")  # fmt: skip
        times = np.asarray(times, np.float64)
        if not np.isfinite(times).all() or (np.diff(times) <= 0).any():
            raise BadInput(file, "timestamps_s", "must be finite and strictly increasing")
        return times
    if "fps" in traj:
        fps = traj["fps"]
        if fps.shape != () or fps.dtype.kind not in "fiu" or not 0 < float(fps) < np.inf:
            raise BadInput(file, "fps", f"need one positive number, got {_shown(fps)}")
        return np.arange(n, dtype=np.float64) / float(fps)
    raise BadInput(
        file, "timestamps_s",
        "this model reads elapsed time; give `timestamps_s` (T,) or `fps` in the .npz",
    )  # fmt: skip


def _segment_sums(per_step: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """(n_steps, F) sums of `per_step` rows over each segment (idx[k−1], idx[k]]."""
    cumulative = np.concatenate([np.zeros((1, per_step.shape[1])), np.cumsum(per_step, axis=0)])
    out: np.ndarray = cumulative[idx + 1] - cumulative[np.concatenate([idx[:1], idx[:-1]]) + 1]
    return out


def motion_columns(
    state: np.ndarray, action: np.ndarray, times: np.ndarray, idx: np.ndarray
) -> np.ndarray:
    """(n_steps, 2·S + A): per segment Σ|Δstate|, log(1 + RMS jerk of state), mean |Δaction|."""
    n = len(state)
    dt = float(np.median(np.diff(times))) if n > 1 else 1.0
    dt = dt if dt > 0 else 1.0
    travel = np.zeros_like(state, dtype=np.float64)
    travel[1:] = np.abs(np.diff(state, axis=0))
    jerk_sq = np.zeros_like(state, dtype=np.float64)
    if n > 3:
        jerk_sq[3:] = (np.diff(state.astype(np.float64), n=3, axis=0) / dt**3) ** 2
    change = np.zeros_like(action, dtype=np.float64)
    change[1:] = np.abs(np.diff(action, axis=0))
    counts = np.maximum(_segment_sums(np.ones((n, 1)), idx), 1.0)
    jerk = np.log1p(np.sqrt(_segment_sums(jerk_sq, idx) / counts))
    return np.concatenate(
        [_segment_sums(travel, idx), jerk, _segment_sums(change, idx) / counts], axis=1
    )


def step_input(traj: dict[str, Any], spec: dict[str, Any]) -> np.ndarray:
    """(1, n_steps, D) float32: state, action [, elapsed seconds] [, motion statistics]."""
    state, action = traj["state"], traj["action"]
    idx = subsample_indices(len(state), int(spec["n_steps"]))
    columns = [state[idx], action[idx]]
    if spec["time_feature"]:
        columns.append((traj["times"][idx] - traj["times"][0])[:, None])
    if spec["motion_features"]:
        columns.append(motion_columns(state, action, traj["times"], idx))
    return np.concatenate(columns, axis=1)[None].astype(np.float32)


def frame_input(traj: dict[str, Any], spec: dict[str, Any]) -> np.ndarray:
    """(1, n_steps, size, size, 3) uint8 frames at the subsampled steps."""
    idx = subsample_indices(len(traj["state"]), int(spec["n_steps"]))
    return resize_frames(traj["frames"][idx], int(spec["image_size"]))[None]


def pretrained_feeds(traj: dict[str, Any], spec: dict[str, Any]) -> dict[str, np.ndarray]:
    """`x` (1, n_steps, C, H, W, 3) uint8 frames of the cameras at their stored size, and `steps`.

    `steps` is state + action (`with_state`), or (1, n_steps, 1) float32 elapsed seconds of the
    sampled frames since the first frame (`time_feature`), or absent.
    """
    idx = subsample_indices(traj["n"], int(spec["n_steps"]))
    feeds = {"x": np.stack([frames[idx] for frames in traj["camera_frames"]], axis=1)[None]}
    if spec["with_state"]:
        feeds["steps"] = step_input(traj, spec)
    elif reads_frame_times(spec):
        times = traj["times"]
        feeds["steps"] = (times[idx] - times[0]).astype(np.float32)[None, :, None]
    return feeds


def model_feeds(traj: dict[str, Any], spec: dict[str, Any]) -> dict[str, np.ndarray]:
    """The graph inputs of one checked trajectory: `x`, and `steps` beside frames."""
    if spec["input"] == "state":
        return {"x": step_input(traj, spec)}
    if spec["input"] == "pretrained_frames":
        return pretrained_feeds(traj, spec)
    feeds = {"x": frame_input(traj, spec)}
    if spec["with_state"]:
        feeds["steps"] = step_input(traj, spec)
    return feeds


def task_embedding(
    spec: dict[str, Any], instruction: str | None, file: Path | None, origin: object
) -> Any:
    """(1, language_dim) float32 instruction embedding, or None for models without language."""
    if not spec["language"]:
        return None
    dim = int(spec["language_dim"])
    if file is None and instruction in spec["task_embeddings"]:
        return np.asarray(spec["task_embeddings"][instruction], np.float32)[None]
    if file is None:
        known = sorted(spec["task_embeddings"])
        raise BadInput(
            origin, "instruction", f"{instruction!r} is not a training task {known[:5]}; pass "
            "--task-embedding FILE.npy (all-MiniLM-L6-v2, L2-normalised)",
        )  # fmt: skip
    try:
        vector = np.load(file, allow_pickle=False)
    except NPZ_ERRORS as exc:
        raise BadInput(file, "task_embedding", f"unreadable ({exc})") from exc
    if not isinstance(vector, np.ndarray) or vector.dtype.kind not in "fiu" or vector.size != dim:
        raise BadInput(file, "task_embedding", f"need ({dim},) numbers, got {_shown(vector)}")
    if not np.isfinite(vector).all():
        raise BadInput(file, "task_embedding", "contains NaN or infinite values")
    return vector.astype(np.float32).reshape(1, dim)


def expected_inputs(spec: dict[str, Any]) -> dict[str, tuple[str, tuple[int | None, ...]]]:
    """Graph input name → (ONNX type, shape after the batch axis), as the spec describes.

    None marks an axis of any size (a pretrained-backbone model's frame height and width).
    """
    n, size, dim = spec["n_steps"], spec["image_size"], spec["step_dim"]
    kind = spec["input"]
    out: dict[str, tuple[str, tuple[int | None, ...]]] = {"x": ("tensor(float)", (n, dim))}
    if kind == "frames":
        out["x"] = ("tensor(uint8)", (n, size, size, 3))
    if kind == "pretrained_frames":
        out["x"] = ("tensor(uint8)", (n, len(spec["cameras"]), None, None, 3))
    if spec["language"]:
        out["task_embedding"] = ("tensor(float)", (spec["language_dim"],))
    if kind != "state" and spec["with_state"]:
        out["steps"] = ("tensor(float)", (n, dim))
    if reads_frame_times(spec):
        out["steps"] = ("tensor(float)", (n, 1))
    return out


def _fits(declared: tuple[Any, ...], shape: tuple[int | None, ...]) -> bool:
    """Graph axes (ints, or names/None when dynamic) fit the spec's (None: must be dynamic)."""
    return len(declared) == len(shape) and all(
        not isinstance(d, int) if s is None else (not isinstance(d, int) or d == s)
        for d, s in zip(declared, shape, strict=True)
    )


def open_session(model_dir: Path, spec: dict[str, Any]) -> Any:
    """An ONNX Runtime session on the spec's graph, whose inputs match the spec."""
    path = model_dir / spec["onnx"]
    if not path.is_file():
        raise BadInput(path, "onnx", "missing: the model's ONNX graph")
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise BadInput(path, "onnxruntime", "not installed (pip install onnxruntime)") from exc
    try:
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as exc:  # ONNX Runtime raises its own types (InvalidProtobuf, Fail, …)
        raise BadInput(path, "onnx", f"unreadable: {str(exc).splitlines()[0][:200]}") from exc
    declared = {i.name: (i.type, tuple(i.shape[1:])) for i in session.get_inputs()}
    for name, (kind, shape) in expected_inputs(spec).items():
        got = declared.pop(name, None)
        if got is None or got[0] != kind or not _fits(got[1], shape):
            raise BadInput(path, name, f"graph reads {got}, {SPEC_FILE} describes {(kind, shape)}")
    if declared or "reward" not in [o.name for o in session.get_outputs()]:
        raise BadInput(path, "inputs", f"graph inputs {sorted(declared)} or outputs do not fit")
    return session


def reward(session: Any, feeds: dict[str, Any], onnx: Path, name: str) -> float:
    """The ensemble-mean reward of one trajectory's feeds; refuses a non-finite result."""
    try:
        value = np.asarray(session.run(["reward"], feeds)[0], np.float64).reshape(-1)
    except Exception as exc:  # ONNX Runtime raises its own types
        raise BadInput(onnx, "x", f"ONNX Runtime refused {name}: {str(exc)[:200]}") from exc
    if value.shape != (1,) or not np.isfinite(value[0]):
        raise BadInput(onnx, "reward", f"{value.tolist()} for {name} is not a finite number")
    return float(value[0])


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Print the reward of robot trajectories.")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--npz", type=Path, help="trajectory .npz (state, action, frames)")
    source.add_argument("--pool", type=Path, help="robopref pool folder (with --id)")
    parser.add_argument("--id", action="append", default=[], help="trajectory id in --pool")
    parser.add_argument("--instruction", help="instruction (overrides the file's)")
    parser.add_argument("--task-embedding", type=Path, help="(384,) embedding .npy")
    parser.add_argument("--model-dir", type=Path, default=Path(__file__).resolve().parent)
    return parser.parse_args(argv)


def score(args: argparse.Namespace) -> list[str]:
    """Check and score every trajectory the arguments name; the lines to print."""
    spec = read_spec(args.model_dir)
    session = open_session(args.model_dir, spec)
    if args.pool is not None and not args.id:
        raise BadInput(args.pool, "--id", "give at least one trajectory id with --pool")
    if args.pool is not None and not (args.pool / "trajectories").is_dir():
        raise BadInput(args.pool, "--pool", "not a robopref pool folder (no trajectories/)")
    camera = (spec["camera"] or "") if spec["input"] == "frames" else None
    cameras = spec["cameras"] if spec["input"] == "pretrained_frames" else None
    values: list[tuple[str, float]] = []
    for trajectory_id in args.id if args.pool is not None else [None]:
        traj = (
            load_npz(args.npz)
            if trajectory_id is None
            else load_pool_trajectory(args.pool, trajectory_id, camera, cameras)
        )
        check_arrays(traj, spec)
        instruction = args.instruction or traj.get("instruction")
        feeds = model_feeds(traj, spec)
        embedding = task_embedding(spec, instruction, args.task_embedding, traj["file"])
        if embedding is not None:
            feeds["task_embedding"] = embedding
        values.append((traj["name"], reward(session, feeds, args.model_dir / spec["onnx"],
                                            traj["name"])))  # fmt: skip
    if len(values) == 1:
        return [f"{values[0][1]:.9g}"]
    return [f"{name} {value:.9g}" for name, value in values]


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (2 on bad input, with nothing printed)."""
    args = _arguments(argv)
    try:
        lines = score(args)
    except BadInput as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    sys.stdout.write("".join(f"{line}\n" for line in lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())

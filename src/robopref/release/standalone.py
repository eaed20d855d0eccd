"""Score a robot trajectory with a robopref reward model: ONNX Runtime and NumPy only.

This file is copied into every release as `inference.py`; it never imports robopref.

Usage (from the release folder, or pass --model-dir):

    python inference.py --npz trajectory.npz --instruction "open the drawer"
    python inference.py --pool path/to/pool --id traj-0001 [--id traj-0002 ...]

Input (see MODEL_CARD.md for this model's numbers):

- `.npz`: `state` (T, S) float32, `action` (T, A) float32, `frames` (T, H, W, 3) uint8 RGB
  (image models only; any H, W), optional `instruction` (a string); T ≥ 2, any length;
  state models with the time or motion features also need `timestamps_s` (T,) seconds or `fps`.
- pool folder: `POOL/trajectories/<id>/arrays.npz` and `meta.json` (the instruction is the
  trajectory's task); image models also read `<camera>.mp4`, which needs PyAV (`pip install av`).

The script subsamples T steps to the model's fixed `n_steps` (nearest step of
linspace(0, T − 1, n_steps)), resizes frames to `image_size` (antialiased bilinear, as in
training: at most one grey level off on a few pixels), looks the instruction up among the
training tasks (or reads `--task-embedding FILE.npy`, a (384,) L2-normalised
all-MiniLM-L6-v2 embedding), runs the ONNX graph, and prints one reward per trajectory
(`<reward>` for one, `<id> <reward>` lines for several).
Exit code 2 on bad input, with a message naming the file and field.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

SPEC_FILE = "reward_model.json"


class BadInput(Exception):
    """Input that does not match the model's format (file, field, message)."""


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


def load_npz(path: Path) -> dict[str, Any]:
    """A trajectory from an .npz file (keys: state, action, frames, instruction)."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            data = {key: npz[key] for key in npz.files}
    except (OSError, ValueError) as exc:
        raise BadInput(f"{path}: file: unreadable ({exc})") from exc
    for key in ("state", "action"):
        if key not in data:
            raise BadInput(f"{path}: {key}: missing")
    if "instruction" in data:
        data["instruction"] = str(data["instruction"])
    data["name"] = str(path)
    return data


def load_pool_trajectory(pool: Path, trajectory_id: str, camera: str | None) -> dict[str, Any]:
    """A trajectory from a robopref pool folder (frames decoded only when `camera` is set)."""
    folder = pool / "trajectories" / trajectory_id
    try:
        meta = json.loads((folder / "meta.json").read_text())
    except (OSError, ValueError) as exc:
        raise BadInput(f"{folder / 'meta.json'}: trajectory_id: unreadable ({exc})") from exc
    data = load_npz(folder / "arrays.npz")
    data["instruction"], data["name"] = meta["task"], trajectory_id
    if camera is not None:
        if camera not in meta.get("cameras", {}):
            raise BadInput(f"{folder}: frames: no camera {camera!r}")
        data["frames"] = _decode(folder / meta["cameras"][camera]["file"])
        info = meta["cameras"][camera]
        data["frames"] = data["frames"][: info["n_frames"], : info["height"], : info["width"]]
    return data


def _decode(path: Path) -> np.ndarray:
    try:
        import av
    except ImportError as exc:
        raise BadInput(f"{path}: frames: decoding MP4 needs PyAV (pip install av)") from exc
    with av.open(str(path)) as container:
        decoded = [np.asarray(f.to_ndarray(format="rgb24")) for f in container.decode(video=0)]
    return np.stack(decoded)


def elapsed_s(traj: dict[str, Any], n: int) -> np.ndarray:
    """(T,) source time of each step: `timestamps_s`, else step / `fps`."""
    if "timestamps_s" in traj:
        times = np.asarray(traj["timestamps_s"], np.float64)
        if times.shape != (n,):
            raise BadInput(f"{traj['name']}: timestamps_s: need ({n},), got {times.shape}")
        return times
    if "fps" in traj:
        return np.arange(n, dtype=np.float64) / float(traj["fps"])
    raise BadInput(
        f"{traj['name']}: timestamps_s: this model reads elapsed time; "
        "give `timestamps_s` (T,) or `fps` in the .npz"
    )


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
    name, n = traj["name"], int(spec["n_steps"])
    state = np.asarray(traj["state"], np.float32)
    action = np.asarray(traj["action"], np.float32)
    if state.ndim != 2 or action.ndim != 2 or len(state) != len(action) or len(state) < 2:
        raise BadInput(f"{name}: state: need (T, S) state and (T, A) action, T ≥ 2")
    for field, array in (("state", state), ("action", action)):
        if array.shape[1] != spec[f"{field}_dim"]:
            raise BadInput(
                f"{name}: {field}: {array.shape[1]} columns, model expects {spec[f'{field}_dim']}"
            )
    idx = subsample_indices(len(state), n)
    columns = [state[idx], action[idx]]
    if spec.get("time_feature") or spec.get("motion_features"):
        times = elapsed_s(traj, len(state))
    if spec.get("time_feature"):
        columns.append((times[idx] - times[0])[:, None])
    if spec.get("motion_features"):
        columns.append(motion_columns(state, action, times, idx))
    x = np.concatenate(columns, axis=1)
    if x.shape[1] != spec["step_dim"]:
        raise BadInput(f"{name}: state: step width {x.shape[1]}, model expects {spec['step_dim']}")
    return x[None].astype(np.float32)


def frame_input(traj: dict[str, Any], spec: dict[str, Any]) -> np.ndarray:
    """(1, n_steps, size, size, 3) uint8 frames at the subsampled steps."""
    name, n_total = traj["name"], len(traj["state"])
    frames = traj.get("frames")
    if frames is None or frames.ndim != 4 or frames.shape[3] != 3 or frames.dtype != np.uint8:
        raise BadInput(f"{name}: frames: need (T, H, W, 3) uint8 RGB frames")
    if len(frames) != n_total:
        raise BadInput(f"{name}: frames: {len(frames)} frames for {n_total} steps")
    if n_total < 2:
        raise BadInput(f"{name}: state: need T ≥ 2 steps")
    idx = subsample_indices(n_total, int(spec["n_steps"]))
    return resize_frames(frames[idx], int(spec["image_size"]))[None]


def model_feeds(traj: dict[str, Any], spec: dict[str, Any]) -> dict[str, np.ndarray]:
    """The graph inputs of one trajectory: `x`, and `steps` beside frames (image + state)."""
    if spec["input"] == "state":
        return {"x": step_input(traj, spec)}
    feeds = {"x": frame_input(traj, spec)}
    if spec.get("with_state"):
        feeds["steps"] = step_input(traj, spec)
    return feeds


def task_embedding(spec: dict[str, Any], instruction: str | None, file: Path | None) -> Any:
    """(1, 384) float32 instruction embedding, or None for models without language."""
    if not spec.get("language"):
        return None
    if file is not None:
        vector = np.load(file, allow_pickle=False).astype(np.float32).reshape(1, -1)
    elif instruction in spec["task_embeddings"]:
        vector = np.asarray(spec["task_embeddings"][instruction], np.float32)[None]
    else:
        known = sorted(spec["task_embeddings"])
        raise BadInput(
            f"instruction: {instruction!r} is not a training task {known[:5]}; pass "
            "--task-embedding FILE.npy (all-MiniLM-L6-v2, L2-normalised)"
        )
    if vector.shape != (1, int(spec["language_dim"])):
        raise BadInput(
            f"task_embedding: shape {vector.shape[1:]}, expected ({spec['language_dim']},)"
        )
    return vector


def reward(session: Any, spec: dict[str, Any], traj: dict[str, Any], embedding: Any) -> float:
    """The ensemble-mean reward of one trajectory."""
    feeds = model_feeds(traj, spec)
    if embedding is not None:
        feeds["task_embedding"] = embedding
    return float(session.run(["reward"], feeds)[0][0])


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


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = _arguments(argv)
    try:
        spec = json.loads((args.model_dir / SPEC_FILE).read_text())
    except (OSError, ValueError) as exc:
        sys.stderr.write(f"error: {args.model_dir / SPEC_FILE}: model: unreadable ({exc})\n")
        return 2
    import onnxruntime as ort

    session = ort.InferenceSession(
        str(args.model_dir / spec["onnx"]), providers=["CPUExecutionProvider"]
    )
    camera = spec.get("camera") if spec["input"] == "frames" else None
    try:
        if args.npz is not None:
            trajectories = [load_npz(args.npz)]
        elif not args.id:
            raise BadInput("--id: give at least one trajectory id with --pool")
        else:
            trajectories = [load_pool_trajectory(args.pool, i, camera) for i in args.id]
        for traj in trajectories:
            instruction = args.instruction or traj.get("instruction")
            value = reward(
                session, spec, traj, task_embedding(spec, instruction, args.task_embedding)
            )
            line = f"{value:.9g}" if len(trajectories) == 1 else f"{traj['name']} {value:.9g}"
            sys.stdout.write(line + "\n")
    except BadInput as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

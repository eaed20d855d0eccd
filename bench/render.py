"""Clip rendering speed per core, against bare libx264 on the same frames.

Builds a one-trajectory pool (20 s at 30 Hz, 256 × 256 camera, force data), renders its
480 × 480 review clip with overlays, with and without the force strip, then encodes the
very frames the pipeline produced with bare libx264 (same CRF, preset, one thread).
Prints real-time multiples per core (clip seconds per CPU second and per wall second)
and the pipeline's time over the bare encoder's.

Run: .venv/bin/python bench/render.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from robopref.pool import MetricsConfig, Trajectory, append_to_pool
from robopref.pool import open as open_pool
from robopref.pool.layout import LazyFrames
from robopref.render import RenderConfig, compose_frames, plan_clip, render_clip
from robopref.render.planes import to_rgb
from robopref.render.source import source_shape
from robopref.video import iter_video_resized, write_video


def scene(n_steps: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """A textured table seen from above with a moving arm and object (not noise)."""
    yy, xx = np.mgrid[0:size, 0:size]
    table = (110 + 25 * ((xx // 16 + yy // 16) % 2) + 10 * np.sin(xx / 9.0)).astype(np.uint8)
    base = np.stack([table, table * 0.9, table * 0.75], axis=-1).astype(np.uint8)
    frames = np.empty((n_steps, size, size, 3), np.uint8)
    for t in range(n_steps):
        frame = base.copy()
        cx = int(size * (0.2 + 0.6 * t / n_steps))
        cy = int(size * (0.5 + 0.2 * np.sin(t / 25)))
        frame[(xx - cx) ** 2 + (yy - cy) ** 2 < (size // 12) ** 2] = (200, 60, 50)
        frame[cy - 3 : cy + 3, : max(1, cx)] = (70, 70, 80)  # the arm
        noise = rng.integers(-3, 4, frame.shape)
        frames[t] = np.clip(frame + noise, 0, 255).astype(np.uint8)
    return frames


def trajectory(n_steps: int = 600, fps: float = 30.0, size: int = 256) -> Trajectory:
    rng = np.random.default_rng(0)
    t = np.arange(n_steps) / fps
    ee = np.stack([0.2 + 0.02 * t, 0.1 * np.sin(t), np.full(n_steps, 0.2)], axis=1)
    action = np.diff(ee, axis=0, prepend=ee[:1]) * fps
    return Trajectory(
        trajectory_id="bench-000",
        task="push the block",
        env_id="bench-v0",
        source="expert",
        fps=fps,
        state=ee.astype(np.float32),
        action=action.astype(np.float32),
        gripper=(t % 6 < 3).astype(np.float32),
        ee_pos=ee.astype(np.float32),
        frames={"front": scene(n_steps, size, rng)},
        force=(20 + 15 * np.sin(t * 2)).clip(0).astype(np.float32),
        success=False,
    )


def timed(fns: dict[str, Callable[[], None]], repeats: int) -> dict[str, tuple[float, float]]:
    """Best wall and best CPU seconds of each function over `repeats` interleaved rounds.

    Interleaving keeps a drifting machine (frequency, neighbours) from favouring one of them.
    """
    walls: dict[str, list[float]] = {k: [] for k in fns}
    cpus: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeats):
        for key, fn in fns.items():
            wall, cpu = time.perf_counter(), time.process_time()
            fn()
            walls[key].append(time.perf_counter() - wall)
            cpus[key].append(time.process_time() - cpu)
    return {k: (min(walls[k]), min(cpus[k])) for k in fns}


def pin_to_one_core() -> str:
    """Run on one CPU (Linux), so that 'per core' is what is measured."""
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned"
    core = max(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {core})
    return f"pinned to CPU {core}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--source-fps", type=float, default=30.0, help="camera rate of the source")
    parser.add_argument("--preset", default=RenderConfig.preset, help="x264 preset of the clips")
    args = parser.parse_args()
    print(f"bench/render.py: {pin_to_one_core()}, best of {args.repeats} interleaved rounds")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "pool"
        append_to_pool(root, [trajectory(n_steps=round(20 * args.source_fps), fps=args.source_fps)])
        traj = open_pool(root)["bench-000"]
        for name, config in (
            ("overlays + force strip", RenderConfig(preset=args.preset)),
            ("overlays, no force strip", RenderConfig(preset=args.preset, force_strip=False)),
        ):
            run(name, traj, config, Path(tmp) / name.replace(" ", "_"), args.repeats)


def run(name: str, traj: Trajectory, config: RenderConfig, out: Path, repeats: int) -> None:
    plan, metrics = plan_clip(traj, config), MetricsConfig()
    clip_s, n = plan.n_frames / config.fps, plan.n_frames

    def pipeline() -> None:
        for path in out.glob("*.json"):
            path.unlink()  # force a render
        render_clip(traj, out, config, camera="front")

    def compose() -> None:
        for _ in compose_frames(traj, plan, camera="front", config=config, metrics=metrics):
            pass

    def decode() -> None:
        assert isinstance(traj.frames, LazyFrames)
        for _ in iter_video_resized(
            traj.frames.path("front"), width=2, height=2, keep=(), threads=1
        ):
            pass

    yuv = [
        f.copy() for f in compose_frames(traj, plan, camera="front", config=config, metrics=metrics)
    ]
    rgb = [to_rgb(f) for f in yuv]

    def bare(frames: list[np.ndarray], frame_format: str) -> Callable[[], None]:
        return lambda: write_video(
            out / "bare.mp4", frames, fps=config.fps, crf=config.crf, preset=config.preset,
            threads=1, frame_format=frame_format,
        )  # fmt: skip

    out.mkdir(parents=True, exist_ok=True)
    times = timed(
        {
            "pipeline": pipeline,
            "compose": compose,
            "decode": decode,
            "rgb": bare(rgb, "rgb24"),
            "yuv": bare(yuv, "yuv420p"),
        },
        repeats,
    )
    (p_wall, p_cpu), (_, c_cpu), (_, d_cpu) = times["pipeline"], times["compose"], times["decode"]
    (rgb_wall, rgb_cpu), (yuv_wall, yuv_cpu) = times["rgb"], times["yuv"]
    ms = 1e3 / n
    print(
        f"[{name}] clip {clip_s:.1f} s = {n} frames {config.width}x{config.height}; "
        f"source {traj.n_steps} steps at {traj.fps:g} Hz, {source_shape(traj, 'front')}"
    )
    print(
        f"  pipeline: {clip_s / p_cpu:5.1f}x real time per core (CPU s), "
        f"{clip_s / p_wall:5.1f}x per wall s, {n / p_cpu:4.0f} clip fps/core"
    )
    print(
        f"  bare libx264 on the same frames: {n / rgb_cpu:4.0f} fps/core from RGB "
        f"({clip_s / rgb_cpu:.1f}x real time), {n / yuv_cpu:4.0f} fps/core from yuv420p"
    )
    print(
        f"  pipeline / bare encoder time: {p_cpu / rgb_cpu:.2f} vs RGB input, "
        f"{p_cpu / yuv_cpu:.2f} vs yuv420p input (CPU s; wall {p_wall / rgb_wall:.2f}, "
        f"{p_wall / yuv_wall:.2f})"
    )
    print(
        f"  per clip frame (CPU ms): whole pipeline {p_cpu * ms:.2f} = decode+scale+compose "
        f"{c_cpu * ms:.2f} (source decode alone {d_cpu * ms:.2f}) + encode {yuv_cpu * ms:.2f} "
        f"+ rest (hash, poster, sidecar, mux) {(p_cpu - c_cpu - yuv_cpu) * ms:.2f}"
    )


if __name__ == "__main__":
    main()

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable

import av
import numpy as np
import pandas as pd
import pytest

import robopref.pool
from robopref.errors import InputError
from robopref.pool import Pool
from robopref.render import RenderConfig, render_pool
from robopref.video import read_video

from .known import decode

FAST = RenderConfig(workers=1, width=128, height=128, force_strip_height=24, font_size=10)
"""Small clips keep these tests quick; the 480 × 480 defaults are covered in test_clip."""


def _files(pool: Pool) -> dict[str, float]:
    return {p.name: p.stat().st_mtime_ns for p in (pool.root / "clips").iterdir()}


def test_render_pool_fills_clip_path_and_writes_every_clip(tiny_pool: Callable[..., Pool]) -> None:
    pool = tiny_pool(n=3, n_steps=30)
    calls: list[tuple[int, int]] = []
    report = render_pool(pool.root, FAST, progress=lambda d, t: calls.append((d, t)))
    assert sorted(report.rendered) == sorted(pool.manifest["trajectory_id"])
    assert report.skipped == () and report.failed == ()
    assert calls[-1] == (3, 3)
    manifest = robopref.pool.open(pool.root).manifest
    for tid, clip_path in zip(manifest["trajectory_id"], manifest["clip_path"], strict=True):
        assert clip_path == f"clips/{tid}.mp4"
        clip = decode(pool.root / clip_path)
        sidecar = json.loads((pool.root / "clips" / f"{tid}.json").read_text())
        assert len(clip.frames) == sidecar["n_frames"] and clip.width == 128
        assert (pool.root / "clips" / f"{tid}.jpg").is_file()
    assert "3 rendered, 0 unchanged, 0 failed" in report.summary()


def test_second_run_renders_nothing_and_a_changed_setting_rerenders(
    tiny_pool: Callable[..., Pool],
) -> None:
    pool = tiny_pool(n=2, n_steps=20)
    render_pool(pool.root, FAST)
    before = _files(pool)
    again = render_pool(pool.root, FAST)
    assert again.rendered == () and len(again.skipped) == 2
    assert _files(pool) == before
    changed = render_pool(pool.root, dataclasses.replace(FAST, crf=30))
    assert len(changed.rendered) == 2 and changed.skipped == ()
    # workers and Ray address do not change a clip
    assert render_pool(pool.root, dataclasses.replace(FAST, crf=30, workers=3)).rendered == ()


def test_changed_input_rerenders_only_that_clip(tiny_pool: Callable[..., Pool]) -> None:
    pool = tiny_pool(n=2, n_steps=20)
    render_pool(pool.root, FAST)
    tid = str(pool.manifest["trajectory_id"][0])
    arrays_path = pool.trajectory_dir(tid) / "arrays.npz"
    with np.load(arrays_path) as npz:
        arrays = dict(npz)
    arrays["gripper"] = np.ones_like(arrays["gripper"])
    np.savez(arrays_path, **arrays)
    report = render_pool(pool.root, FAST)
    assert report.rendered == (tid,) and len(report.skipped) == 1


def test_failed_clip_is_reported_and_leaves_no_partial_file(tiny_pool: Callable[..., Pool]) -> None:
    pool = tiny_pool(n=3, n_steps=20)
    bad = str(pool.manifest["trajectory_id"][1])
    video = pool.trajectory_dir(bad) / "front.mp4"
    video.write_bytes(video.read_bytes()[: video.stat().st_size // 3])  # truncated upload
    report = render_pool(pool.root, FAST)
    assert [tid for tid, _ in report.failed] == [bad]
    assert len(report.rendered) == 2
    names = [p.name for p in (pool.root / "clips").iterdir()]
    assert not any(bad in name for name in names)
    assert not any(name.endswith(".tmp") for name in names)
    clip_paths = robopref.pool.open(pool.root).manifest.set_index("trajectory_id")["clip_path"]
    assert pd.isna(clip_paths[bad]) and clip_paths.notna().sum() == 2
    assert "front.mp4" in dict(report.failed)[bad]  # the reason names the file


def test_pool_without_frames_names_pool_and_field(tiny_pool: Callable[..., Pool]) -> None:
    pool = tiny_pool(n=2, frame_size=None)
    with pytest.raises(InputError) as err:
        render_pool(pool.root, FAST)
    assert err.value.field == "cameras"
    assert str(pool.root) in err.value.path


def test_av1_source_video_renders(tiny_pool: Callable[..., Pool]) -> None:
    pool = tiny_pool(n=1, n_steps=20, frame_size=64)
    tid = str(pool.manifest["trajectory_id"][0])
    video = pool.trajectory_dir(tid) / "front.mp4"
    _, frames = read_video(video)
    with av.open(str(video), "w", format="mp4") as container:  # as LeRobot v2.1 stores it
        stream = container.add_stream("libsvtav1", rate=10)
        stream.width = stream.height = 64
        stream.pix_fmt = "yuv420p"
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode(None))
    with av.open(str(video)) as container:
        assert container.streams.video[0].codec_context.name in {"av1", "libdav1d"}
    report = render_pool(pool.root, FAST)
    assert report.rendered == (tid,), report.failed


def test_process_pool_gives_the_same_bytes_as_one_process(tiny_pool: Callable[..., Pool]) -> None:
    pool = tiny_pool(n=3, n_steps=20)
    render_pool(pool.root, FAST)
    single = {p.name: p.read_bytes() for p in sorted((pool.root / "clips").glob("*.mp4"))}
    parallel = render_pool(pool.root, dataclasses.replace(FAST, workers=2, crf=24))
    assert len(parallel.rendered) == 3
    render_pool(pool.root, dataclasses.replace(FAST, workers=2))
    again = {p.name: p.read_bytes() for p in sorted((pool.root / "clips").glob("*.mp4"))}
    assert again == single  # encoder threads = 1: reproducible bytes

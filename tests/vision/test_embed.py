"""Embedding a pool: skipping cached clips, batching, views, devices, progress, Ray."""

from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from robopref.errors import InputError
from robopref.pool.pool import Pool
from robopref.video import read_video, write_video
from robopref.vision import embed_ray
from robopref.vision.cache import EmbeddingKey
from robopref.vision.embed import (
    BackboneRef,
    clip_jobs,
    embed_pool,
    resolve_device,
    shifted_views,
    trajectory_features,
    view_offsets,
)

from .encoders import MeanEncoder, PixelEncoder


@pytest.fixture
def pool(tiny_pool: Callable[..., Pool]) -> Pool:
    return tiny_pool(n=3, n_steps=10, frame_size=16)


def _ids(pool: Pool) -> list[str]:
    return list(pool.manifest["trajectory_id"])


def _entries(root: Path) -> dict[str, np.ndarray]:
    out = {}
    for path in sorted(root.rglob("*.npz")):
        with np.load(path) as npz:
            out[f"{path.parent.name}/{path.name}"] = npz["features"]
    return out


def _rerender(pool: Pool, tid: str) -> None:
    """Write other frames (same count and size) into a trajectory's front camera MP4."""
    path = pool.trajectory_dir(tid) / "front.mp4"
    _, frames = read_video(path)
    write_video(path, 255 - frames, fps=10, threads=1)


def test_unchanged_pool_embeds_nothing_the_second_time(pool: Pool, tmp_path: Path) -> None:
    first = embed_pool(pool, MeanEncoder(), root=tmp_path / "c", device="cpu")
    assert (first.trajectories, first.clips, first.frames) == (3, 3, 30)
    assert (first.embedded, first.cached, first.embedded_frames) == (3, 0, 30)
    assert first.device == "cpu" and first.frames_per_second > 0
    again = MeanEncoder()
    second = embed_pool(pool, again, root=tmp_path / "c", device="cpu")
    assert again.calls == []
    assert (second.embedded, second.cached, second.embedded_frames) == (0, 3, 0)
    assert second.folders == first.folders and len(first.folders) == 1


def test_a_rerendered_clip_is_embedded_again_and_alone(pool: Pool, tmp_path: Path) -> None:
    embed_pool(pool, MeanEncoder(), root=tmp_path / "c", device="cpu")
    before = _entries(tmp_path / "c")
    _rerender(pool, _ids(pool)[1])
    encoder = MeanEncoder()
    report = embed_pool(pool, encoder, root=tmp_path / "c", device="cpu")
    assert (report.embedded, report.cached) == (1, 2) and sum(encoder.calls) == 10
    after = _entries(tmp_path / "c")
    assert len(after) == 4 and set(before) < set(after)  # the old entry stays, unused


def test_batches_span_trajectories_without_gradients(pool: Pool, tmp_path: Path) -> None:
    encoder = MeanEncoder()
    embed_pool(pool, encoder, root=tmp_path / "c", device="cpu", batch_size=8)
    assert encoder.calls == [8, 8, 8, 6]  # 3 clips × 10 frames, batches across clips
    assert not any(encoder.grad_enabled)
    encoder = MeanEncoder()
    embed_pool(pool, encoder, root=tmp_path / "d", device="cpu", batch_size=8, views=2)
    assert sum(encoder.calls) == 60 and max(encoder.calls) == 8


def test_views_are_the_frame_then_one_fixed_shift_per_clip(pool: Pool, tmp_path: Path) -> None:
    shift = 3
    plain = trajectory_features(pool, PixelEncoder(), _ids(pool), camera="front", root=tmp_path)
    views = trajectory_features(
        pool, PixelEncoder(), _ids(pool), camera="front", views=3, shift=shift, root=tmp_path
    )
    rerun = trajectory_features(
        pool, PixelEncoder(), _ids(pool), camera="front", views=3, shift=shift, root=tmp_path / "x"
    )
    jobs = clip_jobs(pool, _ids(pool), ["front"])
    offsets_seen = set()
    for job, one, three, again in zip(jobs, plain, views, rerun, strict=True):
        assert one.shape == (10, 1, 768) and three.shape == (10, 3, 768)
        np.testing.assert_array_equal(three[:, 0], one[:, 0])  # view 0: the frame itself
        np.testing.assert_array_equal(three, again)  # the same shifts on a re-run
        frames = read_video(job.path)[1][:, :16, :16]
        offsets = view_offsets(job.digest, 3, shift)
        assert all(max(abs(dy), abs(dx)) <= shift for dy, dx in offsets)
        expected = shifted_views(frames, offsets)  # (T, V, H, W, 3), one offset per clip
        got = three.astype(np.float32).reshape(10, 3, 3, 16, 16).transpose(0, 1, 3, 4, 2)
        np.testing.assert_array_equal(got, expected)
        offsets_seen.update(offsets[1:])
    assert len(offsets_seen) > 1  # drawn per clip and view, not one shift for everything


def test_shifted_views_replicate_the_border_like_random_shift() -> None:
    frames = np.arange(2 * 5 * 5 * 3, dtype=np.uint8).reshape(2, 5, 5, 3)
    (out,) = shifted_views(frames, [(2, -1)]).transpose(1, 0, 2, 3, 4)
    padded = np.pad(frames, ((0, 0), (3, 3), (3, 3), (0, 0)), mode="edge")
    np.testing.assert_array_equal(out, padded[:, 3 + 2 : 3 + 2 + 5, 3 - 1 : 3 - 1 + 5])


def test_progress_counts_frames_up_to_the_total(pool: Pool, tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    embed_pool(pool, MeanEncoder(), root=tmp_path, device="cpu", batch_size=4,
               progress=lambda done, total: seen.append((done, total)))  # fmt: skip
    assert seen[0] == (0, 30) and seen[-1] == (30, 30)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen) and len(seen) == 4
    seen.clear()
    embed_pool(pool, MeanEncoder(), root=tmp_path, device="cpu",
               progress=lambda done, total: seen.append((done, total)))  # fmt: skip
    assert seen == [(30, 30)]  # all cached


def test_trajectory_features_in_order_embedding_only_what_is_missing(
    pool: Pool, tmp_path: Path
) -> None:
    ids = _ids(pool)
    embed_pool(pool, MeanEncoder(), root=tmp_path, device="cpu", ids=ids[:1])
    encoder = MeanEncoder()
    wanted = [ids[2], ids[0], ids[2]]
    got = trajectory_features(pool, encoder, wanted, camera="front", root=tmp_path)
    assert sum(encoder.calls) == 10  # ids[2] only, once
    assert [f.shape for f in got] == [(10, 1, 48)] * 3 and all(f.dtype == np.float16 for f in got)
    np.testing.assert_array_equal(got[0], got[2])
    alone = trajectory_features(pool, MeanEncoder(), [ids[0]], camera="front", root=tmp_path / "b")
    np.testing.assert_array_equal(got[1], alone[0])


def test_unknown_camera_trajectory_or_option_is_refused_before_writing(
    pool: Pool, tmp_path: Path
) -> None:
    root = tmp_path / "c"
    with pytest.raises(InputError) as info:
        embed_pool(pool, MeanEncoder(), cameras=["wrist"], root=root)
    assert info.value.path == "--camera" and "'wrist'" in info.value.message
    with pytest.raises(InputError) as info:
        trajectory_features(pool, MeanEncoder(), ["nope"], camera="front", root=root)
    assert info.value.field == "trajectory_id"
    with pytest.raises(InputError) as info:
        embed_pool(pool, MeanEncoder(), views=0, root=root)
    assert info.value.path == "--views"
    with pytest.raises(InputError) as info:
        embed_pool(pool, MeanEncoder(), device="tpu", root=root)
    assert info.value.path == "--device"
    assert not root.exists()


def test_a_clip_shorter_than_its_meta_says_is_refused_naming_n_frames(
    pool: Pool, tmp_path: Path
) -> None:
    tid = _ids(pool)[1]
    meta_path = pool.trajectory_dir(tid) / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["cameras"]["front"]["n_frames"] = 11
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(InputError) as info:
        embed_pool(pool, MeanEncoder(), root=tmp_path / "c", device="cpu", batch_size=4)
    assert info.value.field == "n_frames" and info.value.path.endswith("front.mp4")
    assert len(_entries(tmp_path / "c")) == 1  # the clip before it; none for the bad one


def test_an_encoder_failure_stops_the_decoder_thread(pool: Pool, tmp_path: Path) -> None:
    class Broken(MeanEncoder):
        def forward(self, frames: torch.Tensor) -> torch.Tensor:
            raise RuntimeError("out of memory")

    threads = threading.active_count()
    with pytest.raises(RuntimeError, match="out of memory"):
        embed_pool(pool, Broken(), root=tmp_path / "c", device="cpu", batch_size=4)
    assert threading.active_count() == threads and not (tmp_path / "c").exists()


def test_entries_land_only_under_the_root_named_by_digest(pool: Pool, tmp_path: Path) -> None:
    before = sorted(p for p in pool.root.rglob("*"))
    embed_pool(pool, MeanEncoder(), root=tmp_path / "c", device="cpu", views=2)
    assert sorted(p for p in pool.root.rglob("*")) == before
    names = [p.relative_to(tmp_path / "c").as_posix() for p in (tmp_path / "c").rglob("*")]
    assert all(re.fullmatch(r"emb-[0-9a-f]{16}(/([0-9a-f]{64}\.npz|key\.json))?", n) for n in names)


def test_the_default_root_is_the_pool_cache(pool: Pool) -> None:
    report = embed_pool(pool, MeanEncoder(), device="cpu")
    assert report.folders[0].parent == pool.root / ".cache" / "embeddings"
    assert len(_entries(pool.root / ".cache" / "embeddings")) == 3


def test_auto_device_picks_cuda_when_available(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == "cuda" and resolve_device("cpu") == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == "cpu"
    with pytest.raises(InputError, match="CUDA is not available"):
        resolve_device("cuda")


def test_encoder_is_left_on_its_device_and_mode(pool: Pool, tmp_path: Path) -> None:
    encoder = MeanEncoder().train()
    embed_pool(pool, encoder, root=tmp_path, device="cpu")
    assert encoder.training


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_auto_runs_on_cuda_with_the_cpu_features(pool: Pool, tmp_path: Path) -> None:
    report = embed_pool(pool, MeanEncoder(), root=tmp_path / "gpu")
    assert report.device == "cuda"
    embed_pool(pool, MeanEncoder(), root=tmp_path / "cpu", device="cpu")
    gpu, cpu = _entries(tmp_path / "gpu"), _entries(tmp_path / "cpu")
    assert gpu.keys() == cpu.keys()
    for name in gpu:
        np.testing.assert_allclose(gpu[name], cpu[name], atol=2e-3)


def test_task_groups_cover_every_clip_in_order(pool: Pool) -> None:
    jobs = clip_jobs(pool, _ids(pool), ["front"]) * 4
    groups = embed_ray._task_groups(jobs, workers=2)
    target = math.ceil(120 / (4 * 2))  # about four tasks per worker
    assert [j for g in groups for j in g] == jobs and len(groups) == 6
    assert all(target <= sum(j.n_frames for j in g) < target + 10 for g in groups)


def test_a_task_embeds_its_clips_with_a_shipped_or_loaded_backbone(
    pool: Pool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    jobs = clip_jobs(pool, _ids(pool), ["front"])
    key = EmbeddingKey(backbone="means", weights_digest="random", input_size=16, camera="front")
    root = tmp_path / "c"
    frames = embed_ray._embed_task(MeanEncoder(), {"front": key}, str(root), jobs, 8, "cpu")
    assert frames == 30 and len(_entries(root)) == 3
    loads: list[BackboneRef] = []

    def load(ref: BackboneRef) -> MeanEncoder:
        loads.append(ref)
        return MeanEncoder(digest="sha256:other")

    monkeypatch.setattr(BackboneRef, "load", load)
    monkeypatch.setattr(embed_ray, "_LOADED", {})
    ref = BackboneRef("means")
    with pytest.raises(RuntimeError, match="weights file"):  # another file on this node
        embed_ray._embed_task(ref, {"front": key}, str(tmp_path / "r"), jobs, 8, "cpu")
    other = EmbeddingKey(backbone="means", weights_digest="sha256:other", input_size=16,
                         camera="front")  # fmt: skip
    embed_ray._embed_task(ref, {"front": other}, str(tmp_path / "r"), jobs[:1], 8, "cpu")
    embed_ray._embed_task(ref, {"front": other}, str(tmp_path / "r"), jobs[1:], 8, "cpu")
    assert loads == [ref]  # loaded once per worker process, then reused


@pytest.mark.slow
def test_two_ray_workers_give_the_in_process_features(pool: Pool, tmp_path: Path) -> None:
    pytest.importorskip("ray", reason="ray not installed: the Ray path is untested")
    import ray

    ref = BackboneRef("efficientnet_lite0", input_size=32)  # what the CLI hands over
    local = embed_pool(pool, ref, root=tmp_path / "local", device="cpu", views=2, batch_size=7)
    seen: list[tuple[int, int]] = []
    report = embed_pool(
        pool, ref, root=tmp_path / "ray", device="cpu", views=2, batch_size=7, workers=2,
        progress=lambda done, total: seen.append((done, total)),
    )  # fmt: skip
    assert not ray.is_initialized()  # the session embed_pool started is shut down
    assert report.device.startswith("ray:") and report.embedded == 3 and seen[-1] == (30, 30)
    assert report.folders[0].name == local.folders[0].name
    in_process, fanned = _entries(tmp_path / "local"), _entries(tmp_path / "ray")
    assert in_process.keys() == fanned.keys() and len(in_process) == 3
    for name in in_process:
        np.testing.assert_array_equal(in_process[name], fanned[name])

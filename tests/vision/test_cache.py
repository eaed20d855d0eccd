"""The embedding cache: content addressing, atomic writes, corrupt entries, shared use."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import multiprocessing
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import robopref.pool as rp
from robopref.errors import InputError
from robopref.pool.pool import Pool
from robopref.video import write_video
from robopref.vision.cache import EmbeddingCache, EmbeddingKey, clip_digest, default_root
from robopref.vision.embed import clip_jobs, embed_pool

from .encoders import MeanEncoder

KEY = EmbeddingKey(backbone="means", weights_digest="sha256:ab", input_size=16, camera="front")


def _clip(path: Path, value: int, n: int = 4) -> Path:
    frames = np.full((n, 16, 16, 3), value, np.uint8)
    write_video(path, frames, fps=10, threads=1)
    return path


def _features(n: int = 4, views: int = 1, f: int = 8) -> np.ndarray:
    return np.random.default_rng(n).standard_normal((n, views, f)).astype(np.float32)


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file())


@pytest.mark.parametrize(
    "change",
    [
        {"backbone": "other"},
        {"weights_digest": "sha256:cd"},
        {"input_size": 32},
        {"camera": "wrist"},
        {"views": 2},
    ],
)
def test_every_key_field_names_its_own_folder(change: dict[str, Any]) -> None:
    other = dataclasses.replace(KEY, **change)
    assert other.folder_name != KEY.folder_name
    assert other.folder_name.startswith("emb-") and len(other.folder_name) == 4 + 16


def test_shift_names_a_folder_only_with_augmented_views() -> None:
    two = dataclasses.replace(KEY, views=2)
    assert dataclasses.replace(two, shift=8).folder_name != two.folder_name
    assert dataclasses.replace(KEY, shift=8).folder_name == KEY.folder_name  # view 0 only


def test_bad_key_fields_are_refused_naming_the_field() -> None:
    with pytest.raises(InputError) as info:
        dataclasses.replace(KEY, views=0)
    assert info.value.field == "views"


def test_put_then_get_round_trips_as_float16_named_by_the_clip_digest(tmp_path: Path) -> None:
    clip = _clip(tmp_path / "front.mp4", 100)
    cache = EmbeddingCache(KEY, tmp_path / "root")
    assert cache.get(clip) is None
    assert not (tmp_path / "root").exists()  # nothing written by a miss
    features = _features()
    cache.put(clip, features)
    got = cache.get(clip)
    assert got is not None and got.dtype == np.float16 and got.shape == (4, 1, 8)
    np.testing.assert_array_equal(got, features.astype(np.float16))
    digest = hashlib.sha256(clip.read_bytes()).hexdigest()
    assert clip_digest(clip) == digest
    assert _files(tmp_path / "root") == sorted([f"{digest}.npz", "key.json"])
    assert cache.folder == tmp_path / "root" / KEY.folder_name


def test_same_clip_bytes_elsewhere_hit_and_changed_bytes_miss(tmp_path: Path) -> None:
    cache = EmbeddingCache(KEY, tmp_path / "root")
    clip = _clip(tmp_path / "a.mp4", 100)
    cache.put(clip, _features())
    copy = tmp_path / "copy.mp4"
    copy.write_bytes(clip.read_bytes())
    assert cache.get(copy) is not None  # content-addressed: the path does not matter
    _clip(clip, 200)  # re-rendered with other frames
    assert clip_digest(clip) != clip_digest(copy)
    assert cache.get(clip) is None


def test_digest_is_reread_when_the_file_changes_in_place(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"one")
    first = clip_digest(path)
    assert clip_digest(path) == first
    path.write_bytes(b"two!")
    assert clip_digest(path) == hashlib.sha256(b"two!").hexdigest() != first


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "views", "digest"])
def test_damaged_entry_is_a_logged_miss_and_is_rewritten(
    tmp_path: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    clip = _clip(tmp_path / "front.mp4", 100)
    cache = EmbeddingCache(KEY, tmp_path / "root")
    cache.put(clip, _features())
    entry = cache.entry_path(clip_digest(clip))
    data = entry.read_bytes()
    if damage == "truncate":
        entry.write_bytes(data[: len(data) // 2])
    elif damage == "flip":
        flipped = bytearray(data)
        flipped[len(data) // 2] ^= 0xFF
        entry.write_bytes(bytes(flipped))
    elif damage == "garbage":
        entry.write_bytes(b"not an npz")
    elif damage == "views":
        with open(entry, "wb") as handle:
            np.savez(handle, features=_features(views=2), clip_digest=np.asarray(entry.stem))
    else:
        with open(entry, "wb") as handle:
            np.savez(handle, features=_features(), clip_digest=np.asarray("0" * 64))
    with caplog.at_level(logging.WARNING, logger="robopref.vision.cache"):
        assert cache.get(clip) is None
    assert str(entry) in caplog.text and "embedding again" in caplog.text
    cache.put(clip, _features())
    assert cache.get(clip) is not None


def test_failed_write_leaves_the_old_entry_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clip = _clip(tmp_path / "front.mp4", 100)
    cache = EmbeddingCache(KEY, tmp_path / "root")
    cache.put(clip, _features())

    def broken_replace(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        cache.put(clip, _features() + 1)
    monkeypatch.undo()
    np.testing.assert_array_equal(cache.get(clip), _features().astype(np.float16))
    assert not [name for name in _files(tmp_path / "root") if name.endswith(".tmp")]


def test_default_root_is_inside_the_pool_or_the_user_cache_when_read_only(
    tiny_pool: Callable[..., Pool], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = tiny_pool(n=2, n_steps=4, frame_size=16)
    assert default_root(pool) == pool.root / ".cache" / "embeddings"
    assert not (pool.root / ".cache" / "embeddings").exists()  # checks, creates nothing
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr(os, "access", lambda path, mode: False)  # root ignores modes
    assert default_root(pool) == tmp_path / "xdg" / "robopref" / "embeddings"


def _fill(pool_root: str, cache_root: str) -> None:
    """One of the concurrent processes: embed the whole pool into the shared cache twice."""
    import torch

    torch.set_num_threads(1)
    pool = rp.open(pool_root)
    for _ in range(2):
        embed_pool(pool, MeanEncoder(), root=Path(cache_root), device="cpu", batch_size=8)


def test_two_processes_filling_one_cache_end_with_valid_entries(
    tiny_pool: Callable[..., Pool], tmp_path: Path
) -> None:
    pool: Pool = tiny_pool(n=4, n_steps=10, frame_size=16)
    shared = tmp_path / "shared"
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_fill, args=(str(pool.root), str(shared))) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    alone = tmp_path / "alone"
    embed_pool(pool, MeanEncoder(), root=alone, device="cpu")
    key = EmbeddingKey(backbone="means", weights_digest="random", input_size=16, camera="front")
    shared_cache, alone_cache = EmbeddingCache(key, shared), EmbeddingCache(key, alone)
    jobs = clip_jobs(pool, list(pool.manifest["trajectory_id"]), ["front"])
    for job in jobs:
        got = shared_cache.get_digest(job.digest)
        assert got is not None and got.shape == (10, 1, 48)
        np.testing.assert_array_equal(got, alone_cache.get_digest(job.digest))
    assert _files(shared) == _files(alone)  # entries and key.json only: no temp files left

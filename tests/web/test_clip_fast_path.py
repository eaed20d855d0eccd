"""The clip route's event-loop path: only what this process granted and holds in memory."""

from __future__ import annotations

import os

from robopref.render.clip import clip_files
from robopref.web.clip_access import ClipAccess
from robopref.web.clip_index import ClipIndex

from .conftest import Campaign


def test_memory_path_needs_a_cached_current_clip(campaign: Campaign) -> None:
    index = ClipIndex(campaign.store, campaign.pool)
    tid = str(campaign.manifest["trajectory_id"].iloc[0])
    assert index.known_trajectory(index.display_id(tid)) is None  # not loaded yet
    assert index.trajectory_id(index.display_id(tid)) == tid  # loads (reads the store)
    assert index.known_trajectory(index.display_id(tid)) == tid
    assert index.clip_in_memory(tid) is None  # never looked up: the thread pool's job
    looked_up = index.clip(tid)
    assert looked_up is not None and looked_up.data is not None
    fast = index.clip_in_memory(tid)
    assert fast is not None and (fast.path, fast.data) == (looked_up.path, looked_up.data)
    video = clip_files(index.clips_dir, tid)[0]
    stamp = video.stat().st_mtime_ns + 10**9
    os.utime(video, ns=(stamp, stamp))  # a re-rendered file: check and read it again
    assert index.clip_in_memory(tid) is None
    again, fast = index.clip(tid), index.clip_in_memory(tid)
    assert again is not None and fast is not None
    assert fast.stat.st_mtime_ns == again.stat.st_mtime_ns == stamp


def test_only_remembered_grants_skip_the_store(campaign: Campaign) -> None:
    access = ClipAccess(campaign.store)
    pair = campaign.batch.pairs[0]
    mine = next(a.annotator_id for a in campaign.batch.assignments if a.pair_id == pair.pair_id)
    assert not access.remembered(mine, pair.trajectory_a_id)
    assert access.allowed(mine, pair.trajectory_a_id)
    assert access.remembered(mine, pair.trajectory_a_id)
    assert not access.allowed("nobody", pair.trajectory_a_id)
    assert not access.remembered("nobody", pair.trajectory_a_id)

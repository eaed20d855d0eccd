from __future__ import annotations

import dataclasses
import json
import stat
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from robopref.pool import MetricsConfig, Pool
from robopref.render import (
    RenderConfig,
    clip_display_id,
    load_display_key,
    render_clip,
    render_pool,
    stale_clips,
    stale_clips_warning,
)
from robopref.render.compose import FrameComposer
from robopref.render.display_key import KEY_FILE
from robopref.render.overlays import Box, OverlayPainter
from robopref.render.planes import to_rgb
from robopref.render.trim import plan_clip

from .known import known_trajectory

FAST = RenderConfig(workers=1, width=128, height=128, force_strip_height=24, font_size=10)
"""As tests/web/conftest.py renders its pool."""
SHOWN = "0123456789abcdef01234567"


def _sidecar(clips: Path, trajectory_id: str) -> dict[str, object]:
    return json.loads((clips / f"{trajectory_id}.json").read_text())  # type: ignore[no-any-return]


def test_clips_burn_their_display_id_under_the_pools_private_key(
    tiny_pool: Callable[..., Pool],
) -> None:
    pool = tiny_pool(n=2, n_steps=12)
    render_pool(pool.root, FAST)
    clips = pool.root / "clips"
    key = load_display_key(clips)
    assert key is not None
    assert stat.S_IMODE((clips / KEY_FILE).stat().st_mode) == 0o600
    for tid in pool.manifest["trajectory_id"]:
        assert _sidecar(clips, tid)["burned_id"] == clip_display_id(key, tid)
        assert tid.encode() not in (clips / f"{tid}.mp4").read_bytes()
    assert stale_clips(pool.root) == 0
    again = render_pool(pool.root, FAST, force=True)  # a second run keeps the key
    assert len(again.rendered) == 2 and load_display_key(clips) == key
    tid = str(pool.manifest["trajectory_id"][0])
    assert _sidecar(clips, tid)["burned_id"] == clip_display_id(key, tid)


def test_old_sidecars_and_a_lost_key_count_as_stale(tiny_pool: Callable[..., Pool]) -> None:
    pool = tiny_pool(n=3, n_steps=12)
    assert stale_clips(pool.root) == 0  # nothing rendered yet
    render_pool(pool.root, FAST)
    clips = pool.root / "clips"
    old = clips / "syn-00-001.json"
    record = json.loads(old.read_text())
    del record["burned_id"]  # as robopref rendered it before display ids
    old.write_text(json.dumps(record))
    assert stale_clips(pool.root) == 1
    message = stale_clips_warning(pool.root, 1)
    assert "1 clip(s)" in message and f"robopref render --force {pool.root}" in message
    report = render_pool(pool.root, FAST)  # the hash covers the burned id: re-rendered
    assert report.rendered == ("syn-00-001",) and stale_clips(pool.root) == 0
    (clips / KEY_FILE).unlink()  # a new key: every clip shows an id it no longer has
    assert stale_clips(pool.root) == 3
    assert len(render_pool(pool.root, FAST).rendered) == 3 and stale_clips(pool.root) == 0


def test_the_trajectory_id_and_source_never_reach_the_pixels(tmp_path: Path) -> None:
    config = dataclasses.replace(FAST, force_strip=True)
    traj = known_trajectory("pick-place-v3__expert__s0-0000", n_steps=30, success=False)
    twin = dataclasses.replace(traj, trajectory_id="pick-place-v3__random__s0-0001",
                               source="random")  # fmt: skip
    for t in (traj, twin):
        render_clip(t, tmp_path, config, burned_id=SHOWN)
    first, second = ((tmp_path / f"{t.trajectory_id}.mp4").read_bytes() for t in (traj, twin))
    assert first == second  # only the burned id is drawn, and it is the same
    render_clip(traj, tmp_path, config, burned_id="f" * 24)
    assert (tmp_path / f"{traj.trajectory_id}.mp4").read_bytes() != second


def test_a_direct_render_derives_the_id_from_the_folders_key(tmp_path: Path) -> None:
    traj = known_trajectory(n_steps=30, success=False)
    render_clip(traj, tmp_path, FAST)
    key = load_display_key(tmp_path)
    assert key is not None
    assert _sidecar(tmp_path, traj.trajectory_id)["burned_id"] == clip_display_id(key, "known-000")


def test_two_ids_differ_only_inside_the_watermark() -> None:
    traj, config = known_trajectory(), RenderConfig()
    plan = plan_clip(traj, config)
    frame = np.asarray(traj.frames["front"])[30]
    shown = {}
    for text in (SHOWN, "fedcba9876543210fedcba98"):
        composer = FrameComposer(traj, plan, source_shape=(64, 64), config=config,
                                 metrics=MetricsConfig(), watermark=text)  # fmt: skip
        assert composer.overlays is not None
        shown[text] = to_rgb(composer.compose(composer.scale(frame), time_s=3.0, step=30))
        box = composer.overlays.regions()["watermark"]
    changed = np.argwhere((shown[SHOWN] != shown["fedcba9876543210fedcba98"]).any(axis=2))
    assert len(changed) > 50
    (top, left), (bottom, right) = changed.min(axis=0), changed.max(axis=0)
    # chroma is shared by 2 x 2 blocks, so an edge may reach one pixel past the box
    assert box.x - 1 <= left and right <= box.x + box.w
    assert box.y - 1 <= top and bottom <= box.y + box.h


@pytest.mark.parametrize("side", [104, 160, 432])
def test_the_whole_id_fits_beside_the_time_at_any_size(side: int) -> None:
    painter = OverlayPainter(watermark=SHOWN, video=Box(0, 0, side, side), font_size=15)
    watermark, time = painter.regions()["watermark"], painter.regions()["time"]
    assert watermark.x + watermark.w < time.x  # no overlap, nothing cut
    assert watermark.y + watermark.h < side / 2
    if side >= 432:
        assert watermark.h == time.h  # one line on a standard clip


def test_no_watermark_without_an_id() -> None:
    painter = OverlayPainter(watermark=None, video=Box(0, 0, 432, 432), font_size=15)
    assert set(painter.regions()) == {"time", "gripper"}

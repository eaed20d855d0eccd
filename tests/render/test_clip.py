from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from robopref.errors import InputError
from robopref.pool import MetricsConfig
from robopref.render import ClipStatus, RenderConfig, letterbox, render_clip
from robopref.render.compose import FrameComposer
from robopref.render.overlays import OverlayPainter
from robopref.render.planes import to_rgb
from robopref.render.trim import plan_clip
from robopref.video import top_level_boxes, write_video

from .known import CLOSE_STEP, SUCCESS_STEP, decode, known_trajectory


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    clips = tmp_path_factory.mktemp("clips")
    result = render_clip(known_trajectory(), clips, RenderConfig())
    assert result.status == ClipStatus.RENDERED
    return clips


def test_clip_is_h264_yuv420p_480_at_15fps_with_trimmed_frame_count(rendered: Path) -> None:
    clip = decode(rendered / "known-000.mp4")
    assert (clip.codec, clip.pix_fmt) == ("h264", "yuv420p")
    assert (clip.width, clip.height) == (480, 480)
    assert clip.fps == pytest.approx(15.0)
    assert len(clip.frames) == 76 + 30  # 1 s before action … 2 s after success, + 2 s freeze


def test_clip_ends_with_a_two_second_freeze(rendered: Path) -> None:
    frames = decode(rendered / "known-000.mp4").frames.astype(np.int16)
    freeze = frames[-31:]  # the last moving frame and its 30 copies
    # x264 refines a still picture over a few frames, so compare on average
    assert np.abs(freeze - freeze[-1]).mean(axis=(1, 2, 3)).max() < 0.05
    assert np.abs(frames[-32] - frames[-31]).mean() > 0.3  # the square still moved before


def test_moov_comes_before_mdat(rendered: Path, tmp_path: Path) -> None:
    boxes = top_level_boxes(rendered / "known-000.mp4")
    assert boxes.index("moov") < boxes.index("mdat")
    plain = tmp_path / "plain.mp4"
    write_video(plain, [np.zeros((16, 16, 3), np.uint8)] * 3, fps=15, faststart=False)
    boxes = top_level_boxes(plain)
    assert boxes.index("moov") > boxes.index("mdat")  # the check can fail


def test_sidecar_records_trim_and_settings(rendered: Path) -> None:
    sidecar = json.loads((rendered / "known-000.json").read_text())
    assert sidecar["trim"]["first_action_step"] == 20
    assert sidecar["trim"]["success_step"] == SUCCESS_STEP
    assert sidecar["trim"]["end_reason"] == "success"
    assert sidecar["source"]["first_step"] == 10 and sidecar["source"]["last_step"] == 60
    assert sidecar["n_frames"] == 106 and sidecar["n_freeze_frames"] == 30
    assert sidecar["video"] == {
        "codec": "libx264", "crf": 23, "preset": "veryfast", "pix_fmt": "yuv420p",
        "faststart": True, "encoder_threads": 1,
    }  # fmt: skip
    assert len(sidecar["hash"]) == 64 and sidecar["robopref_version"]
    assert len(sidecar["burned_id"]) == 24 and sidecar["trajectory_id"] == "known-000"


def test_poster_is_the_first_action_frame(rendered: Path) -> None:
    poster = np.asarray(Image.open(rendered / "known-000.jpg"))
    frames = decode(rendered / "known-000.mp4").frames
    plan = plan_clip(known_trajectory(), RenderConfig())
    errors = [np.abs(poster.astype(int) - f).mean() for f in frames[:40]]
    assert int(np.argmin(errors)) == plan.poster_index


def test_gripper_indicator_changes_when_the_gripper_closes(rendered: Path) -> None:
    frames = decode(rendered / "known-000.mp4").frames
    plan = plan_clip(known_trajectory(), RenderConfig())
    composer = FrameComposer(
        known_trajectory(),
        plan,
        source_shape=(64, 64),
        config=RenderConfig(),
        metrics=MetricsConfig(),
    )
    assert composer.overlays is not None
    x, y, w, h = composer.overlays.regions()["gripper"]
    first_closed = int(np.argmax(plan.source_index >= CLOSE_STEP))
    open_patch = frames[first_closed - 1, y : y + h, x : x + w].astype(int)
    closed_patch = frames[first_closed, y : y + h, x : x + w].astype(int)
    assert np.abs(open_patch - closed_patch).mean() > 5
    assert (open_patch[..., 1] - open_patch[..., 0]).mean() > 3  # green dot when open
    assert (closed_patch[..., 0] - closed_patch[..., 1]).mean() > 3  # red dot when closed
    held = frames[first_closed + 3, y : y + h, x : x + w].astype(int)
    assert np.abs(held - closed_patch).mean() < 2


def test_overlays_leave_the_workspace_centre_alone() -> None:
    traj, config = known_trajectory(), RenderConfig()
    plan = plan_clip(traj, config)
    frame = np.asarray(traj.frames["front"])[30]
    bare = FrameComposer(
        traj,
        plan,
        source_shape=(64, 64),
        config=dataclasses.replace(config, overlays=False),
        metrics=MetricsConfig(),
    )
    full = FrameComposer(traj, plan, source_shape=(64, 64), config=config,
                         metrics=MetricsConfig(), watermark="0123456789abcdef01234567")  # fmt: skip
    a = to_rgb(bare.compose(bare.scale(frame), time_s=3.0, step=30))
    b = to_rgb(full.compose(full.scale(frame), time_s=3.0, step=30))
    v = full.video
    centre = (slice(v.y + v.h // 4, v.y + 3 * v.h // 4), slice(v.x + v.w // 4, v.x + 3 * v.w // 4))
    assert np.array_equal(a[centre], b[centre])
    assert not np.array_equal(a, b)  # the overlays are somewhere
    assert isinstance(full.overlays, OverlayPainter)
    assert set(full.overlays.regions()) == {"watermark", "time", "gripper"}
    for box in full.overlays.regions().values():
        assert (
            box.x >= v.x
            and box.y >= v.y
            and box.x + box.w <= v.x + v.w
            and box.y + box.h <= v.y + v.h
        )


def test_time_overlay_shows_source_time() -> None:
    traj, config = known_trajectory(), RenderConfig()
    plan = plan_clip(traj, config)
    composer = FrameComposer(
        traj, plan, source_shape=(64, 64), config=config, metrics=MetricsConfig()
    )
    assert composer.overlays is not None
    x, y, w, h = composer.overlays.regions()["time"]
    frame = composer.scale(np.asarray(traj.frames["front"])[20])
    at_1 = to_rgb(composer.compose(frame, time_s=1.0, step=20))[y : y + h, x : x + w]
    at_1_again = to_rgb(composer.compose(frame, time_s=1.0, step=20))[y : y + h, x : x + w]
    at_2 = to_rgb(composer.compose(frame, time_s=2.0, step=20))[y : y + h, x : x + w]
    assert np.array_equal(at_1, at_1_again) and not np.array_equal(at_1, at_2)
    assert plan.times_s[0] == pytest.approx(1.0)  # clip time 0 is source time 1.0


def test_non_square_frames_are_letterboxed_not_stretched(tmp_path: Path) -> None:
    traj = known_trajectory(frame_hw=(32, 64), force=False)
    render_clip(traj, tmp_path, RenderConfig(overlays=False))
    frame = decode(tmp_path / "known-000.mp4").frames[40].astype(int)
    box = letterbox(32, 64, width=480, height=480)
    assert box == (0, 120, 480, 240)
    assert frame[: box.y - 2].max() < 20 and frame[box.y + box.h + 2 :].max() < 20  # bars
    inside = frame[box.y + 4 : box.y + box.h - 4]
    assert inside.mean() > 60  # the grey background fills the box edge to edge


def test_force_strip_sits_below_the_video_and_its_cursor_moves(tmp_path: Path) -> None:
    render_clip(known_trajectory(), tmp_path, RenderConfig(overlays=False))
    frames = decode(tmp_path / "known-000.mp4").frames.astype(int)
    strip = frames[:, 480 - 48 + 4 :, :]  # below the label row
    cursor = [int(np.argmax((s.min(axis=2) > 200).sum(axis=0))) for s in strip[[5, 40, 70]]]
    assert cursor[0] < cursor[1] < cursor[2]
    # the colour of the strip grows with force (a ramp): right end brighter than left
    last = strip[-1, -6]
    assert last[-20:].sum() > last[:20].sum()
    no_force = tmp_path / "noforce"
    render_clip(known_trajectory(force=False), no_force, RenderConfig(overlays=False))
    bottom = decode(no_force / "known-000.mp4").frames[40, 440:].astype(int)
    assert bottom.mean() > 60  # video reaches the bottom: no strip without force data


def test_missing_camera_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="camera") as err:
        render_clip(known_trajectory(), tmp_path, RenderConfig(camera="wrist"))
    assert err.value.field == "camera"
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(("width", "height"), [(64, 64), (160, 96), (640, 360)])
def test_any_even_clip_size_renders(tmp_path: Path, width: int, height: int) -> None:
    config = RenderConfig(width=width, height=height, force_strip_height=16)
    render_clip(known_trajectory(n_steps=30, success=False), tmp_path, config)
    clip = decode(tmp_path / "known-000.mp4")
    assert (clip.width, clip.height) == (width, height)


def test_yuv_blending_matches_rgb_blending_then_conversion() -> None:
    from robopref.render.planes import YuvPatch, from_rgb

    rng = np.random.default_rng(0)
    background = rng.integers(0, 256, (32, 48, 3)).astype(np.uint8)
    rgba = rng.integers(0, 256, (10, 14, 4)).astype(np.uint8)
    alpha = rgba[..., 3:].astype(float) / 255
    expected = background.astype(float)
    expected[4:14, 6:20] = expected[4:14, 6:20] * (1 - alpha) + rgba[..., :3] * alpha
    buffer = from_rgb(background)
    YuvPatch.from_rgba(rgba).paint(buffer, 6, 4)
    error = np.abs(to_rgb(buffer).astype(float) - expected)
    reference = np.abs(to_rgb(from_rgb(expected.round().astype(np.uint8))) - expected)
    assert error.mean() < reference.mean() + 1.0  # as good as blending in RGB, then encoding

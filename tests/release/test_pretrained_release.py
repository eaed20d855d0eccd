"""Releases of pretrained-backbone (frames-only) reward models: spec, standalone script, card.

Two small models on the bundled EfficientNet-Lite0 at 32 px: one camera without language, and
two cameras (`front`, `side`) with instructions. The standalone inference.py (ONNX Runtime +
NumPy + PyAV) must give `RewardModel.score`'s rewards, within the release's parity tolerance,
from pool trajectories and from .npz files of raw frames at any size.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from robopref.pool import Pool, Trajectory
from robopref.release import ReleaseConfig, ReleaseInputs, build_release, standalone
from robopref.reward import RewardModel

from .conftest import TASKS, truth_pairs

pytestmark = pytest.mark.slow  # trains two models and exports EfficientNet-Lite0 twice

ATOL = ReleaseConfig().parity_atol
"""The release's own ONNX − PyTorch tolerance."""


@dataclass(frozen=True)
class Released:
    """A pretrained model, its pool and its release folder."""

    pool: Pool
    model: RewardModel
    folder: Path

    @property
    def spec(self) -> dict[str, Any]:
        return dict(json.loads((self.folder / "reward_model.json").read_text()))

    def ids(self, step: int = 5) -> list[str]:
        return [str(t) for t in self.pool.manifest["trajectory_id"].tolist()[::step]]


def _release(root: Path, pool: Pool, *, language: bool, cameras: tuple[str, ...] = ()) -> Released:
    import torch

    from robopref.reward import EncoderConfig, TrainConfig, load, train_reward_model

    torch.set_num_threads(1)
    truth_pairs(pool, n_pairs=30).to_parquet(root / "prefs.parquet")
    encoder = EncoderConfig(kind="pretrained", backbone="efficientnet_lite0", input_size=32,
                            views=1, n_steps=4, embed_dim=8, hidden_dim=16, language=language,
                            cameras=cameras)  # fmt: skip
    config = TrainConfig(encoder=encoder, epochs=2, ensemble_size=1, device="cpu",
                         cache_dir=root / "cache")  # fmt: skip
    train_reward_model(root / "prefs.parquet", pool, config, out=root / "model")
    inputs = ReleaseInputs(preferences=root / "prefs.parquet", pool=pool.root, model=root / "model")
    result = build_release(inputs, root / "out", ReleaseConfig(name="pixels"))
    return Released(pool=pool, model=load(root / "model"), folder=result.folder)


def _two_camera_pool(path: Path) -> Pool:
    """Synthetic reaches of two tasks with a `front` camera and a mirrored `side` one."""
    from robopref.pool.pool import append_to_pool
    from robopref.testing import synthetic_trajectory

    rng = np.random.default_rng(3)
    trajectories = []
    for t, task in enumerate(TASKS):
        for i, q in enumerate(np.linspace(0.0, 1.0, 6)):
            traj = synthetic_trajectory(f"cam-{t}-{i:02d}", quality=float(q), rng=rng, task=task,
                                        frame_size=32)  # fmt: skip
            front = traj.frames["front"]
            side = np.ascontiguousarray(front[:, :, ::-1])
            trajectories.append(replace(traj, frames={"front": front, "side": side}))
    return append_to_pool(path, trajectories)


@pytest.fixture(scope="module")
def one_camera(tmp_path_factory: pytest.TempPathFactory) -> Released:
    """One camera, no language, frame times."""
    from robopref.testing import tiny_pool

    root = tmp_path_factory.mktemp("pretrained-one")
    pool = tiny_pool(root / "pool", n=6, frame_size=32, tasks=TASKS)
    return _release(root, pool, language=False)


@pytest.fixture(scope="module")
def two_cameras(tmp_path_factory: pytest.TempPathFactory) -> Released:
    """Cameras `front` and `side`, with instructions."""
    root = tmp_path_factory.mktemp("pretrained-two")
    return _release(root, _two_camera_pool(root / "pool"), language=True, cameras=("front", "side"))


def _script(folder: Path, *args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(folder / "inference.py"), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def _pool_rewards(released: Released, ids: list[str]) -> list[float]:
    args = [a for t in ids for a in ("--id", t)]
    done = _script(released.folder, "--pool", released.pool.root, *args)
    assert done.returncode == 0, done.stderr
    lines = [line.split() for line in done.stdout.splitlines()]
    assert [name for name, _ in lines] == ids
    return [float(value) for _, value in lines]


def _part(traj: Trajectory, n: int, frames: dict[str, np.ndarray], times: np.ndarray) -> Trajectory:
    """The first `n` steps of `traj`, with these frames and timestamps."""
    return Trajectory(
        trajectory_id="part", task=traj.task, env_id=traj.env_id, source=traj.source,
        fps=traj.fps, state=traj.state[:n], action=traj.action[:n], gripper=traj.gripper[:n],
        ee_pos=traj.ee_pos[:n], frames={k: v[:n] for k, v in frames.items()},
        timestamps_s=times[:n],
    )  # fmt: skip


def test_the_spec_records_raw_frames_cameras_frame_times_and_the_backbone(
    one_camera: Released, two_cameras: Released
) -> None:
    spec = one_camera.spec
    assert spec["input"] == "pretrained_frames"
    assert spec["cameras"] == ["front"] and spec["image_size"] is None
    assert spec["time_feature"] is True and spec["step_dim"] == 1 and not spec["with_state"]
    assert spec["language"] is False and spec["task_embeddings"] == {}
    recorded = one_camera.model.record["backbone"]
    assert spec["backbone"] == {
        key: recorded[key]
        for key in ("name", "architecture", "weights_digest", "weights_source", "input_size",
                    "feature_dim")
    }  # fmt: skip
    assert spec["backbone"]["name"] == "efficientnet_lite0"
    assert spec["backbone"]["weights_digest"].startswith("sha256:")
    assert spec["backbone"]["input_size"] == 32
    assert spec["format"]["inputs"]["x"]["shape"] == ["batch", 4, 1, "height", "width", 3]
    assert spec["format"]["parity_max_abs_diff"] <= ATOL
    two = two_cameras.spec
    assert two["cameras"] == ["front", "side"] and two["language"] is True
    assert sorted(two["task_embeddings"]) == sorted(TASKS)


def test_script_scores_pool_trajectories_as_the_model_does(one_camera: Released) -> None:
    ids = one_camera.ids()
    got = _pool_rewards(one_camera, ids)
    want = one_camera.model.score([one_camera.pool[t] for t in ids])
    np.testing.assert_allclose(got, want, atol=ATOL)
    done = _script(one_camera.folder, "--pool", one_camera.pool.root, "--id", ids[0])
    assert done.returncode == 0 and float(done.stdout) == pytest.approx(float(want[0]), abs=ATOL)


def test_script_reads_an_npz_of_frames_at_any_size_length_and_clock(
    one_camera: Released, tmp_path: Path
) -> None:
    traj = one_camera.pool[one_camera.ids()[1]]
    front = np.asarray(traj.frames["front"])
    bigger = np.repeat(np.repeat(front, 2, axis=1), 3, axis=2)  # 64 × 96, not square
    slower = traj.times_s * 1.7
    cases: dict[str, tuple[dict[str, Any], np.ndarray, np.ndarray]] = {
        "stored": ({"frames": front, "timestamps_s": traj.times_s}, front, traj.times_s),
        "bigger": ({"frames": bigger, "timestamps_s": slower}, bigger, slower),
        "fps": ({"frames_front": front, "fps": np.asarray(traj.fps)}, front, traj.times_s),
    }
    for label, (arrays, frames, times) in cases.items():
        for n in (traj.n_steps, 7):  # the whole episode and a prefix
            path = tmp_path / f"{label}-{n}.npz"
            _npz(path, {k: v[:n] if v.ndim else v for k, v in arrays.items()})
            done = _script(one_camera.folder, "--npz", path)
            assert done.returncode == 0, (label, n, done.stderr)
            want = one_camera.model.score([_part(traj, n, {"front": frames}, times)])
            assert float(done.stdout) == pytest.approx(float(want[0]), abs=ATOL), (label, n)


def test_two_cameras_with_instructions_score_as_the_model_does(
    two_cameras: Released, tmp_path: Path
) -> None:
    ids = two_cameras.ids(3)
    got = _pool_rewards(two_cameras, ids)
    want = two_cameras.model.score([two_cameras.pool[t] for t in ids])
    np.testing.assert_allclose(got, want, atol=ATOL)
    traj = two_cameras.pool[ids[-1]]
    front, side = (np.asarray(traj.frames[c]) for c in ("front", "side"))
    path = tmp_path / "t.npz"
    np.savez(path, frames_front=front, frames_side=side, timestamps_s=traj.times_s,
             instruction=traj.task)  # fmt: skip
    done = _script(two_cameras.folder, "--npz", path)
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) == pytest.approx(got[-1], abs=ATOL)
    other = next(t for t in TASKS if t != traj.task)
    done = _script(two_cameras.folder, "--npz", path, "--instruction", other)
    want_other = two_cameras.model.score([replace(traj, task=other)])
    assert float(done.stdout) == pytest.approx(float(want_other[0]), abs=ATOL)
    swapped = tmp_path / "swapped.npz"  # the cameras are read by name, not by position
    np.savez(swapped, frames_side=side, frames_front=front, fps=traj.fps, instruction=traj.task)
    assert float(_script(two_cameras.folder, "--npz", swapped).stdout) == pytest.approx(
        got[-1], abs=ATOL
    )


def _run(folder: Path, *args: object, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = standalone.main([*map(str, args), "--model-dir", str(folder)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _refused(result: tuple[int, str, str], file: object, field: str) -> None:
    code, out, err = result
    assert code == 2 and out == "", (code, out, err)
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert f"{file}: {field}: " in err, err


def _two_camera_cases(good: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """label → (field, arrays) of .npz inputs the two-camera model cannot score."""
    front, side = good["frames_front"], good["frames_side"]
    without = {k: v for k, v in good.items() if k != "frames_side"}
    return {
        "missing-camera": ("frames_side", without),
        "frames-not-per-camera": ("frames_front", {**{k: v for k, v in without.items()
                                                     if k != "frames_front"}, "frames": front}),
        "float-frames": ("frames_front", {**good, "frames_front": front.astype(np.float32)}),
        "uint16-frames": ("frames_side", {**good, "frames_side": side.astype(np.uint16)}),
        "grey-frames": ("frames_side", {**good, "frames_side": side[..., 0]}),
        "rgba-frames": ("frames_side", {**good, "frames_side": np.concatenate(
            [side, side[..., :1]], axis=3)}),
        "other-size": ("frames_side", {**good, "frames_side": side[:, :, :-4]}),
        "fewer-frames": ("frames_side", {**good, "frames_side": side[:-2]}),
        "empty-frames": ("frames_front", {**good, "frames_front": front[:, :0],
                                          "frames_side": side[:, :0]}),
        "one-frame": ("frames_front", {**good, "frames_front": front[:1],
                                       "frames_side": side[:1], "timestamps_s": np.zeros(1)}),
        "no-clock": ("timestamps_s", {k: v for k, v in good.items() if k != "timestamps_s"}),
        "clock-short": ("timestamps_s", {**good, "timestamps_s": good["timestamps_s"][:-1]}),
        "unknown-task": ("instruction", {**good, "instruction": "open the fridge"}),
    }  # fmt: skip


@pytest.mark.parametrize(
    "label",
    list(
        _two_camera_cases(
            {k: np.zeros((3, 8, 8, 3)) for k in ("frames_front", "frames_side", "timestamps_s")}
        )
    ),
)
def test_npz_frames_it_cannot_score_are_named(
    two_cameras: Released, tmp_path: Path, capsys: pytest.CaptureFixture[str], label: str
) -> None:  # fmt: skip
    traj = two_cameras.pool[two_cameras.ids()[0]]
    good = {
        "frames_front": np.asarray(traj.frames["front"]),
        "instruction": traj.task,
        "frames_side": np.asarray(traj.frames["side"]),
        "timestamps_s": traj.times_s,
    }
    code, out, _ = _run(two_cameras.folder, "--npz", _npz(tmp_path / "ok.npz", good),
                        capsys=capsys)  # fmt: skip
    assert code == 0 and math.isfinite(float(out))
    field, arrays = _two_camera_cases(good)[label]
    path = _npz(tmp_path / "t.npz", arrays)
    _refused(_run(two_cameras.folder, "--npz", path, capsys=capsys), path, field)


def _npz(path: Path, arrays: dict[str, Any]) -> Path:
    np.savez(path, **arrays)
    return path


def test_a_one_camera_npz_without_usable_frames_is_named(
    one_camera: Released, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    traj = one_camera.pool[one_camera.ids()[0]]
    front = np.asarray(traj.frames["front"])
    cases: list[tuple[str, dict[str, Any]]] = [
        ("frames", {"timestamps_s": traj.times_s, "state": traj.state}),
        ("frames", {"frames": front.astype(np.int16), "timestamps_s": traj.times_s}),
        ("frames_front", {"frames_front": front[..., :2], "fps": 10.0}),
        ("fps", {"frames": front, "fps": -1.0}),
    ]
    for field, arrays in cases:
        path = _npz(tmp_path / "t.npz", arrays)
        _refused(_run(one_camera.folder, "--npz", path, capsys=capsys), path, field)
    path = _npz(tmp_path / "t.npz", {"frames_front": front[:, :, :5]})
    done = _script(one_camera.folder, "--npz", path)  # exit code 2 from the command line
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == f"error: {path}: timestamps_s: this model reads elapsed time; give " \
        "`timestamps_s` (T,) or `fps` in the .npz\n"  # fmt: skip


def _pool_copy(released: Released, tmp_path: Path) -> tuple[Path, Path]:
    copy = Path(shutil.copytree(released.pool.root, tmp_path / "pool"))
    return copy, copy / "trajectories" / released.ids()[0]


def _drop_side(meta: dict[str, Any], folder: Path) -> tuple[Path, str]:
    del meta["cameras"]["side"]
    return folder / "meta.json", "cameras"


def _crop_side(meta: dict[str, Any], folder: Path) -> tuple[Path, str]:
    meta["cameras"]["side"]["height"] -= 4  # decoded frames cropped: 28 × 32 beside 32 × 32
    return folder / "side.mp4", "frames"


def _break_side(meta: dict[str, Any], folder: Path) -> tuple[Path, str]:
    video = folder / "side.mp4"
    video.write_bytes(video.read_bytes()[:300])
    return video, "frames"


@pytest.mark.parametrize("change", [_drop_side, _crop_side, _break_side])
def test_a_pool_camera_it_cannot_read_is_named(
    two_cameras: Released, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    change: Callable[[dict[str, Any], Path], tuple[Path, str]],
) -> None:  # fmt: skip
    pool, folder = _pool_copy(two_cameras, tmp_path)
    meta = json.loads((folder / "meta.json").read_text())
    file, field = change(meta, folder)
    (folder / "meta.json").write_text(json.dumps(meta))
    result = _run(two_cameras.folder, "--pool", pool, "--id", folder.name, capsys=capsys)
    _refused(result, file, field)
    if change is _crop_side:
        err = result[2]
        assert "'side'" in err and "'front'" in err and "one frame size" in err


@pytest.mark.parametrize(
    ("field", "value", "file", "where"),
    [
        ("cameras", None, "reward_model.json", "cameras"),
        ("cameras", [], "reward_model.json", "cameras"),
        ("cameras", ["front", "front"], "reward_model.json", "cameras"),
        ("cameras", ["front", "../side"], "reward_model.json", "cameras"),
        ("cameras", "front", "reward_model.json", "cameras"),
        ("input", "pretrained", "reward_model.json", "input"),
        ("step_dim", 2, "reward_model.json", "step_dim"),
        ("cameras", ["front"], "reward_model.onnx", "x"),  # the graph reads two
        ("time_feature", False, "reward_model.onnx", "inputs"),  # the graph reads frame times
    ],
)
def test_a_spec_that_does_not_describe_the_graph_is_named(
    two_cameras: Released, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    field: str, value: object, file: str, where: str,
) -> None:  # fmt: skip
    folder = tmp_path / "release"
    folder.mkdir()
    for name in ("reward_model.json", "reward_model.onnx"):
        shutil.copyfile(two_cameras.folder / name, folder / name)
    (folder / "reward_model.json").write_text(json.dumps({**two_cameras.spec, field: value}))
    result = _run(folder, "--pool", two_cameras.pool.root, "--id", two_cameras.ids()[0],
                  capsys=capsys)  # fmt: skip
    _refused(result, folder / file, where)


def test_the_model_card_names_the_backbone_its_digest_and_the_cameras(
    one_camera: Released, two_cameras: Released
) -> None:
    for released in (one_camera, two_cameras):
        backbone = released.spec["backbone"]
        for card in ("MODEL_CARD.md", "DATASET_CARD.md"):
            text = (released.folder / card).read_text()
            assert "- Backbone: `efficientnet_lite0` (architecture `tf_efficientnet_lite0`)" in text
            assert (
                f"weights `{backbone['weights_digest']}` from {backbone['weights_source']}" in text
            )
            assert "input 32×32 px, 1280 features per frame and camera" in text
    card = (two_cameras.folder / "MODEL_CARD.md").read_text()
    assert "- Cameras: `front`, `side` (features concatenated in this order)" in card
    assert "| `x` | (batch, 4, 2, height, width, 3) | uint8 | [0, 255] |" in card
    assert "| `steps` | (batch, 4, 1) | float32 |" in card
    assert "`frames_front`, `frames_side` (T, H, W, 3) uint8" in card
    one = (one_camera.folder / "MODEL_CARD.md").read_text()
    assert "- Cameras: `front`\n" in one and "Instruction: not used" in one
    assert "`inference.py --npz`: `frames` (T, H, W, 3) uint8, `timestamps_s` (T,) or `fps`" in one

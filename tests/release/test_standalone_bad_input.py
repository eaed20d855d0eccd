"""The standalone inference.py on inputs it cannot score: exit 2, file and field, no number."""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from robopref.pool import Pool
from robopref.release import ReleaseResult, standalone
from robopref.testing import tiny_pool

from .conftest import TASKS, Trained

MODEL_FILES = ("reward_model.json", "reward_model.onnx")


@pytest.fixture
def release(built: ReleaseResult, tmp_path: Path) -> Path:
    """A copy of the state model's files (reward_model.json + .onnx) to break."""
    folder = tmp_path / "release"
    folder.mkdir()
    for name in MODEL_FILES:
        shutil.copyfile(built.folder / name, folder / name)
    return folder


@pytest.fixture(scope="module")
def image_release(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Pool]:
    """Model files of an untrained image + state model with instructions, and its pool."""
    import torch

    from robopref.release.inference import write_model_files
    from robopref.reward import EncoderConfig, RewardModel
    from robopref.reward.compat import input_dims, step_width
    from robopref.reward.ensemble import EnsembleNet
    from robopref.reward.model import build_net, spec_for

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("image-release")
    pool = tiny_pool(root / "pool", n=2, frame_size=16, tasks=TASKS)
    enc = EncoderConfig(kind="conv", with_state=True, n_steps=4, image_size=16, embed_dim=8,
                        hidden_dim=8)  # fmt: skip
    dims = input_dims(pool[str(pool.manifest["trajectory_id"].iloc[0])])
    spec = spec_for(enc, step_dim=step_width(enc, *dims.values()), language_dim=384,
                    camera="front")  # fmt: skip
    vectors = {t: np.full(384, 384**-0.5, np.float32) for t in TASKS}
    model = RewardModel(net=EnsembleNet([build_net(spec, seed=0)]), spec=spec,
                        task_embeddings=vectors, record={"data": dims})  # fmt: skip
    (root / "release").mkdir()
    write_model_files(root / "release", model, pool, onnx=True, pt=False, atol=1e-4, n_check=2)
    return root / "release", pool


def run(model_dir: Path, *args: object, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = standalone.main([*map(str, args), "--model-dir", str(model_dir)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_refused(result: tuple[int, str, str], file: object, field: str) -> None:
    code, out, err = result
    assert code == 2 and out == "", (code, out, err)
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert f"{file}: {field}: " in err, err


def npz(path: Path, **arrays: Any) -> Path:
    np.savez(path, **arrays)
    return path


def good_arrays(trained: Trained) -> dict[str, np.ndarray]:
    traj = trained.pool[trained.pool.manifest["trajectory_id"].iloc[0]]
    return {"state": traj.state, "action": traj.action, "timestamps_s": traj.times_s}


def test_a_good_npz_scores(release: Path, trained: Trained, tmp_path: Path, capsys: Any) -> None:
    code, out, _ = run(release, "--npz", npz(tmp_path / "t.npz", **good_arrays(trained)),
                       capsys=capsys)  # fmt: skip
    assert code == 0 and math.isfinite(float(out))


SPEC_WRONG = {
    "schema_version": 2, "onnx": 7, "input": "video", "n_steps": "ten", "state_dim": 0,
    "action_dim": None, "step_dim": 20, "language_dim": [1], "with_state": "no",
    "time_feature": 1, "motion_features": None, "language": "false", "camera": 3,
    "task_embeddings": [],
}  # fmt: skip


@pytest.mark.parametrize(("field", "value"), [*SPEC_WRONG.items(), ("onnx", "../model.onnx")])
def test_a_malformed_spec_field_is_named(
    release: Path, trained: Trained, tmp_path: Path, capsys: Any, field: str, value: object
) -> None:
    spec = json.loads((release / "reward_model.json").read_text())
    (release / "reward_model.json").write_text(json.dumps({**spec, field: value}))
    result = run(release, "--npz", npz(tmp_path / "t.npz", **good_arrays(trained)), capsys=capsys)
    assert_refused(result, release / "reward_model.json", field)
    del spec[field]
    (release / "reward_model.json").write_text(json.dumps(spec))
    result = run(release, "--npz", tmp_path / "t.npz", capsys=capsys)
    assert_refused(result, release / "reward_model.json", field)


@pytest.mark.parametrize("text", ["", "{", "[1, 2]", "null"])
def test_an_unreadable_spec_is_refused(
    release: Path, tmp_path: Path, capsys: Any, text: str
) -> None:
    (release / "reward_model.json").write_text(text)
    result = run(release, "--npz", tmp_path / "t.npz", capsys=capsys)
    field = "model" if text in ("", "{") else "reward_model.json"
    assert_refused(result, release / "reward_model.json", field)


@pytest.mark.parametrize("keep", [0.0, 0.1, 0.5, 0.9, None])
def test_a_missing_or_truncated_onnx_graph_is_refused(
    release: Path, trained: Trained, tmp_path: Path, capsys: Any, keep: float | None
) -> None:
    graph = release / "reward_model.onnx"
    data = graph.read_bytes()
    if keep is None:
        graph.unlink()
    else:
        graph.write_bytes(data[: int(len(data) * keep)])
    result = run(release, "--npz", npz(tmp_path / "t.npz", **good_arrays(trained)), capsys=capsys)
    assert_refused(result, graph, "onnx")


def test_a_graph_that_does_not_fit_the_spec_is_refused(
    release: Path, trained: Trained, tmp_path: Path, capsys: Any
) -> None:
    spec = json.loads((release / "reward_model.json").read_text())
    spec["n_steps"] += 1  # consistent, but not what the graph reads
    (release / "reward_model.json").write_text(json.dumps(spec))
    result = run(release, "--npz", npz(tmp_path / "t.npz", **good_arrays(trained)), capsys=capsys)
    assert_refused(result, release / "reward_model.onnx", "x")


def test_a_graph_computing_nan_prints_no_number(
    release: Path, trained: Trained, tmp_path: Path, capsys: Any
) -> None:
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(release / "reward_model.onnx")
    for init in graph.graph.initializer:
        if init.name.endswith("head.3.bias"):
            init.CopyFrom(numpy_helper.from_array(np.full(1, np.nan, np.float32), init.name))
    onnx.save(graph, release / "reward_model.onnx")
    result = run(release, "--npz", npz(tmp_path / "t.npz", **good_arrays(trained)), capsys=capsys)
    assert_refused(result, release / "reward_model.onnx", "reward")


def _bad_npz(arrays: dict[str, np.ndarray]) -> dict[str, tuple[str, dict[str, Any]]]:
    """label → (field, arrays) of .npz inputs the state model cannot score."""
    s, a, t = arrays["state"], arrays["action"], arrays["timestamps_s"]
    nan, inf = s.copy(), a.copy()
    nan[3, 1], inf[2, 0] = np.nan, np.inf
    return {
        "no-state": ("state", {"action": a, "timestamps_s": t}),
        "no-action": ("action", {"state": s, "timestamps_s": t}),
        "state-str": ("state", {"state": s.astype(str), "action": a, "timestamps_s": t}),
        "state-bool": ("state", {"state": s > 0, "action": a, "timestamps_s": t}),
        "state-1d": ("state", {"state": s[:, 0], "action": a, "timestamps_s": t}),
        "state-nan": ("state", {"state": nan, "action": a, "timestamps_s": t}),
        "action-inf": ("action", {"state": s, "action": inf, "timestamps_s": t}),
        "state-wide": ("state", {"state": np.hstack([s, s]), "action": a, "timestamps_s": t}),
        "action-narrow": ("action", {"state": s, "action": a[:, :2], "timestamps_s": t}),
        "steps-differ": ("action", {"state": s, "action": a[:-3], "timestamps_s": t}),
        "one-step": ("state", {"state": s[:1], "action": a[:1], "timestamps_s": t[:1]}),
        "zero-steps": ("state", {"state": s[:0], "action": a[:0], "timestamps_s": t[:0]}),
        "no-time": ("timestamps_s", {"state": s, "action": a}),
        "time-short": ("timestamps_s", {"state": s, "action": a, "timestamps_s": t[:-1]}),
        "time-backwards": ("timestamps_s", {"state": s, "action": a, "timestamps_s": t[::-1]}),
        "time-nan": ("timestamps_s", {"state": s, "action": a, "timestamps_s": t * np.nan}),
        "fps-zero": ("fps", {"state": s, "action": a, "fps": 0.0}),
        "fps-negative": ("fps", {"state": s, "action": a, "fps": -10}),
        "fps-array": ("fps", {"state": s, "action": a, "fps": np.array([10.0, 20.0])}),
        "fps-str": ("fps", {"state": s, "action": a, "fps": "ten"}),
        "instruction-list": ("instruction", {**arrays, "instruction": np.array(["a", "b"])}),
        "instruction-number": ("instruction", {**arrays, "instruction": 3}),
        "empty-archive": ("state", {}),
    }


@pytest.mark.parametrize("label", list(_bad_npz({k: np.ones((4, 4)) for k in ("state", "action",
                                                  "timestamps_s")})))  # fmt: skip
def test_npz_arrays_it_cannot_score_are_named(
    release: Path, trained: Trained, tmp_path: Path, capsys: Any, label: str
) -> None:
    field, arrays = _bad_npz(good_arrays(trained))[label]
    path = npz(tmp_path / "t.npz", **arrays)
    assert_refused(run(release, "--npz", path, capsys=capsys), path, field)


@pytest.mark.parametrize(
    "write",
    [
        lambda p: p.write_bytes(b""),
        lambda p: p.write_bytes(b"PK\x03\x04 not really a zip"),
        lambda p: np.save(p.with_suffix(".npy"), np.zeros(3)) or p.with_suffix(".npy").rename(p),
        lambda p: np.savez(p, state=np.array([{"a": 1}], dtype=object)),  # needs pickle
        lambda p: p.write_bytes(npz(p, state=np.zeros((9, 4))).read_bytes()[:200]),
        lambda p: None,  # no such file
    ],
    ids=["empty", "garbage", "npy", "pickled", "truncated", "missing"],
)
def test_an_unreadable_npz_is_refused(
    release: Path, tmp_path: Path, capsys: Any, write: Callable[[Path], object]
) -> None:
    path = tmp_path / "t.npz"
    write(path)
    assert_refused(run(release, "--npz", path, capsys=capsys), path, "file")


@pytest.mark.parametrize(
    ("ids", "file", "field"),
    [
        (["../../escaped"], "POOL", "--id"),
        (["/tmp/robopref-fuzz-escaped"], "POOL", "--id"),
        ([""], "POOL", "--id"),
        (["a\nb"], "POOL", "--id"),
        (["no-such-trajectory"], "POOL", "--id"),
        ([], "POOL", "--id"),
        (["GOOD", "no-such-trajectory"], "POOL", "--id"),  # one bad id: no reward printed at all
    ],
)
def test_pool_ids_it_cannot_read_are_refused(
    release: Path, trained: Trained, capsys: Any, ids: list[str], file: str, field: str
) -> None:
    good = str(trained.pool.manifest["trajectory_id"].iloc[0])
    args = [a for i in ids for a in ("--id", good if i == "GOOD" else i)]
    result = run(release, "--pool", trained.pool.root, *args, capsys=capsys)
    assert_refused(result, trained.pool.root, field)


def _pool_copy(pool: Pool, tmp_path: Path) -> tuple[Path, Path]:
    copy = Path(shutil.copytree(pool.root, tmp_path / "pool"))
    first = sorted((copy / "trajectories").iterdir())[0]
    return copy, first


@pytest.mark.parametrize(
    ("change", "name", "field"),
    [
        (lambda d: (d / "meta.json").write_text("{"), "meta.json", "meta.json"),
        (lambda d: (d / "meta.json").write_text("[1]"), "meta.json", "task"),
        (lambda d: (d / "meta.json").write_text('{"task": ""}'), "meta.json", "task"),
        (lambda d: (d / "arrays.npz").unlink(), "arrays.npz", "file"),
        (lambda d: (d / "arrays.npz").write_bytes(b"x" * 10), "arrays.npz", "file"),
    ],
)
def test_a_broken_pool_trajectory_is_named(
    release: Path, trained: Trained, tmp_path: Path, capsys: Any,
    change: Callable[[Path], object], name: str, field: str,
) -> None:  # fmt: skip
    pool, folder = _pool_copy(trained.pool, tmp_path)
    change(folder)
    result = run(release, "--pool", pool, "--id", folder.name, capsys=capsys)
    assert_refused(result, folder / name, field)


def test_a_folder_that_is_not_a_pool_is_refused(
    release: Path, tmp_path: Path, capsys: Any
) -> None:
    assert_refused(run(release, "--pool", tmp_path, "--id", "x", capsys=capsys), tmp_path, "--pool")


def _frames_cases(arrays: dict[str, np.ndarray]) -> dict[str, tuple[str, dict[str, Any]]]:
    frames = arrays["frames"]
    rgba = np.concatenate([frames, frames[..., :1]], axis=3)
    return {
        "no-frames": ("frames", {k: v for k, v in arrays.items() if k != "frames"}),
        "float-frames": ("frames", {**arrays, "frames": frames.astype(np.float32)}),
        "rgba-frames": ("frames", {**arrays, "frames": rgba}),
        "zero-height": ("frames", {**arrays, "frames": frames[:, :0]}),
        "fewer-frames": ("frames", {**arrays, "frames": frames[:-2]}),
        "grey-frames": ("frames", {**arrays, "frames": frames[..., 0]}),
    }


@pytest.mark.parametrize("label", list(_frames_cases({"frames": np.zeros((2, 2, 2, 3))})))
def test_frames_it_cannot_score_are_named(
    image_release: tuple[Path, Pool], tmp_path: Path, capsys: Any, label: str
) -> None:
    folder, pool = image_release
    traj = pool[str(pool.manifest["trajectory_id"].iloc[0])]
    arrays = {"state": traj.state, "action": traj.action, "timestamps_s": traj.times_s,
              "frames": np.asarray(traj.frames["front"]), "instruction": traj.task}  # fmt: skip
    code, out, _ = run(folder, "--npz", npz(tmp_path / "ok.npz", **arrays), capsys=capsys)
    assert code == 0 and math.isfinite(float(out))
    field, bad = _frames_cases(arrays)[label]
    path = npz(tmp_path / "t.npz", **bad)
    assert_refused(run(folder, "--npz", path, capsys=capsys), path, field)


@pytest.mark.parametrize(
    ("embedding", "field"),
    [
        (None, "instruction"),  # an instruction unseen in training, and no embedding file
        (np.zeros(383, np.float32), "task_embedding"),
        (np.full(384, np.nan, np.float32), "task_embedding"),
        (np.array(["x"] * 384), "task_embedding"),
        (b"not an npy", "task_embedding"),
    ],
)
def test_an_instruction_it_cannot_embed_is_refused(
    image_release: tuple[Path, Pool], tmp_path: Path, capsys: Any, embedding: Any, field: str
) -> None:
    folder, pool = image_release
    traj = pool[str(pool.manifest["trajectory_id"].iloc[0])]
    path = npz(tmp_path / "t.npz", state=traj.state, action=traj.action,
               timestamps_s=traj.times_s, frames=np.asarray(traj.frames["front"]))  # fmt: skip
    args: list[object] = ["--npz", path, "--instruction", "open the fridge"]
    file: Path = path
    if embedding is not None:
        file = tmp_path / "emb.npy"
        file.write_bytes(embedding) if isinstance(embedding, bytes) else np.save(file, embedding)
        args += ["--task-embedding", file]
    assert_refused(run(folder, *args, capsys=capsys), file, field)


@pytest.mark.parametrize(
    ("meta", "field"),
    [
        (lambda m: m.update(cameras={}), "cameras"),
        (lambda m: m["cameras"]["front"].update(file="../../escaped.mp4"), "cameras.front.file"),
        (lambda m: m["cameras"]["front"].update(n_frames="many"), "cameras.front.n_frames"),
        (lambda m: m["cameras"]["front"].update(height=0), "cameras.front.height"),
    ],
)
def test_a_pool_camera_it_cannot_read_is_named(
    image_release: tuple[Path, Pool], tmp_path: Path, capsys: Any,
    meta: Callable[[dict[str, Any]], object], field: str,
) -> None:  # fmt: skip
    folder, pool = image_release
    copy, trajectory = _pool_copy(pool, tmp_path)
    data = json.loads((trajectory / "meta.json").read_text())
    meta(data)
    (trajectory / "meta.json").write_text(json.dumps(data))
    result = run(folder, "--pool", copy, "--id", trajectory.name, capsys=capsys)
    assert_refused(result, trajectory / "meta.json", field)


def test_a_video_it_cannot_decode_is_named(
    image_release: tuple[Path, Pool], tmp_path: Path, capsys: Any
) -> None:
    folder, pool = image_release
    copy, trajectory = _pool_copy(pool, tmp_path)
    video = next(trajectory.glob("*.mp4"))
    video.write_bytes(video.read_bytes()[:300])
    result = run(folder, "--pool", copy, "--id", trajectory.name, capsys=capsys)
    assert_refused(result, video, "frames")

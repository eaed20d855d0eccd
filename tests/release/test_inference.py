"""The standalone inference script: same rewards as the model, ONNX Runtime + NumPy only."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from robopref.release import ReleaseConfig, ReleaseResult, build_release
from robopref.release.standalone import resize_frames

from .conftest import TASKS, Trained, truth_pairs


def _run(script: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True, timeout=120
    )


def test_script_prints_the_models_reward_for_a_pool_trajectory(
    built: ReleaseResult, trained: Trained
) -> None:
    from robopref.reward import load

    model = load(trained.model)
    ids = trained.pool.manifest["trajectory_id"].tolist()[:3]
    expected = model.score([trained.pool[t] for t in ids])
    done = _run(built.folder / "inference.py", "--pool", str(trained.pool.root), "--id", ids[0])
    assert done.returncode == 0, done.stderr
    assert float(done.stdout) == pytest.approx(float(expected[0]), abs=1e-4)
    args = [a for t in ids for a in ("--id", t)]
    done = _run(built.folder / "inference.py", "--pool", str(trained.pool.root), *args)
    lines = [line.split() for line in done.stdout.splitlines()]
    assert [name for name, _ in lines] == ids
    np.testing.assert_allclose([float(v) for _, v in lines], expected, atol=1e-4)


def test_script_reads_an_npz_of_any_length(
    built: ReleaseResult, trained: Trained, tmp_path: Path
) -> None:
    from robopref.pool import Trajectory
    from robopref.reward import load

    model = load(trained.model)
    traj = trained.pool[trained.pool.manifest["trajectory_id"].iloc[5]]
    for n in (traj.n_steps, 7):  # the full episode and a shorter prefix
        path = tmp_path / f"t{n}.npz"
        np.savez(path, state=traj.state[:n], action=traj.action[:n], instruction=traj.task,
                 fps=traj.fps)  # fmt: skip
        part = Trajectory(
            trajectory_id="part",
            task=traj.task,
            env_id=traj.env_id,
            source=traj.source,
            fps=traj.fps,
            state=traj.state[:n],
            action=traj.action[:n],
            gripper=traj.gripper[:n],
            ee_pos=traj.ee_pos[:n],
        )
        done = _run(built.folder / "inference.py", "--npz", str(path))
        assert done.returncode == 0, done.stderr
        assert float(done.stdout) == pytest.approx(float(model.score([part])[0]), abs=1e-4)


def test_script_needs_only_numpy_and_onnxruntime(built: ReleaseResult, trained: Trained) -> None:
    script = built.folder / "inference.py"
    tree = ast.parse(script.read_text())
    top = {
        (node.module if isinstance(node, ast.ImportFrom) else alias.name).split(".")[0]
        for node in tree.body
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert top - set(sys.stdlib_module_names) == {"numpy"}  # onnxruntime, av: imported late
    probe = (
        "import runpy, sys\n"
        f"sys.argv = ['inference.py', '--pool', {str(trained.pool.root)!r}, "
        f"'--id', {trained.pool.manifest['trajectory_id'].iloc[0]!r}]\n"
        "try:\n"
        f"    runpy.run_path({str(script)!r}, run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in ('torch', 'robopref', 'pandas', 'pyarrow') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, cwd=built.folder
    )
    assert done.stdout.splitlines()[-1] == "[]", done.stderr


def test_bad_input_exits_2_naming_file_and_field(built: ReleaseResult, tmp_path: Path) -> None:
    path = tmp_path / "bad.npz"
    np.savez(path, state=np.zeros((5, 4), np.float32))
    done = _run(built.folder / "inference.py", "--npz", str(path))
    assert done.returncode == 2 and f"{path}: action: missing" in done.stderr
    np.savez(path, state=np.zeros((5, 4), np.float32), action=np.zeros((5, 4), np.float32))
    done = _run(built.folder / "inference.py", "--npz", str(path))
    assert done.returncode == 2 and f"{path}: timestamps_s:" in done.stderr  # the time feature
    np.savez(path, state=np.zeros((5, 3), np.float32), action=np.zeros((5, 4), np.float32), fps=10)
    done = _run(built.folder / "inference.py", "--npz", str(path))
    assert done.returncode == 2 and f"{path}: state: 3 columns, model expects 4" in done.stderr


def test_numpy_resize_matches_the_training_resize() -> None:
    from robopref.reward.features import resize_frames as torch_resize

    rng = np.random.default_rng(0)
    for shape, size in (((2, 96, 96, 3), 64), ((2, 30, 50, 3), 64), ((1, 64, 64, 3), 64)):
        frames = rng.integers(0, 256, shape, dtype=np.uint8)
        diff = np.abs(resize_frames(frames, size).astype(int) - torch_resize(frames, size))
        assert diff.max() <= 1 and (diff > 0).mean() < 0.01


@pytest.mark.slow
def test_image_and_state_model_with_instructions_scores_the_same_through_the_script(
    tmp_path: Path,
) -> None:
    import torch

    from robopref.reward import EncoderConfig, TrainConfig, load, train_reward_model
    from robopref.testing import tiny_pool

    torch.set_num_threads(1)
    pool = tiny_pool(tmp_path / "pool", n=6, frame_size=48, tasks=TASKS)
    truth_pairs(pool, n_pairs=30).to_parquet(tmp_path / "prefs.parquet")
    encoder = EncoderConfig(
        kind="conv",
        with_state=True,
        language=True,
        n_steps=4,
        image_size=32,
        embed_dim=8,
        hidden_dim=16,
    )
    config = TrainConfig(
        encoder=encoder, epochs=2, ensemble_size=1, device="cpu", cache_dir=tmp_path / "cache"
    )
    train_reward_model(tmp_path / "prefs.parquet", pool, config, out=tmp_path / "model")
    from robopref.release import ReleaseInputs

    result = build_release(
        ReleaseInputs(
            preferences=tmp_path / "prefs.parquet", pool=pool.root, model=tmp_path / "model"
        ),
        tmp_path / "out",
        ReleaseConfig(name="img"),
    )
    model = load(tmp_path / "model")
    ids = pool.manifest["trajectory_id"].tolist()[::4]
    args = [a for t in ids for a in ("--id", t)]
    done = _run(result.folder / "inference.py", "--pool", str(pool.root), *args)
    assert done.returncode == 0, done.stderr
    got = [float(line.split()[1]) for line in done.stdout.splitlines()]
    np.testing.assert_allclose(got, model.score([pool[t] for t in ids]), atol=1e-4)
    card = (result.folder / "MODEL_CARD.md").read_text()
    assert "| `x` | (batch, 4, 32, 32, 3) | uint8 | [0, 255] |" in card
    assert "`task_embedding` | (batch, 384) | float32" in card
    step_dim = model.spec.step_dim
    assert f"| `steps` | (batch, 4, {step_dim}) | float32 |" in card
    assert "Step layout (`steps`)" in card
    traj = pool[ids[0]]
    np.savez(
        tmp_path / "t.npz",
        state=traj.state,
        action=traj.action,
        frames=np.asarray(traj.frames["front"]),
        timestamps_s=traj.times_s,
    )
    done = _run(
        result.folder / "inference.py",
        "--npz",
        str(tmp_path / "t.npz"),
        "--instruction",
        "open the fridge",
    )
    assert done.returncode == 2 and "not a training task" in done.stderr
    done = _run(
        result.folder / "inference.py", "--npz", str(tmp_path / "t.npz"), "--instruction", traj.task
    )
    assert float(done.stdout) == pytest.approx(got[0], abs=1e-4)

"""`robopref policy best-of-n | finetune | evaluate` on a real tiny pool, good and bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from tests.policy.conftest import TASK
from typer.testing import CliRunner

from robopref.cli import app
from robopref.policy.files import load_policy
from robopref.pool.pool import Pool, open_pool
from robopref.reward import EncoderConfig, TrainConfig, train_reward_model
from robopref.testing.preferences import synthetic_preferences
from robopref.testing.synthetic import tiny_pool

pytestmark = pytest.mark.sim

runner = CliRunner()
FAST = ["--workers", "1", "--placements", "2"]


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["policy", *args])
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def model(policy_pool: Pool, tmp_path_factory: pytest.TempPathFactory) -> Path:
    prefs = synthetic_preferences(policy_pool, n_pairs=15, seed=0)
    out = tmp_path_factory.mktemp("model") / "model"
    config = TrainConfig(encoder=EncoderConfig(kind="state"), epochs=2, ensemble_size=2,
                         test_fraction=0.2, device="cpu")  # fmt: skip
    train_reward_model(prefs, policy_pool, config, out=out)
    return out


def test_best_of_n_with_a_learned_reward(policy_pool: Pool, model: Path, tmp_path: Path) -> None:
    report = tmp_path / "bon.json"
    code, out = _run("best-of-n", str(policy_pool.root), "--task", TASK, "--reward", str(model),
                     "--n", "2", *FAST, "--out", str(report))  # fmt: skip
    assert code == 0, out
    assert "best-of-2 by learned" in out
    data = json.loads(report.read_text())
    assert data["n"] == 2 and data["placements"] == 2 and data["scorer"] == "learned"
    assert 0.0 <= data["best_of_n_success"] <= 1.0


def test_finetune_writes_a_policy_evaluate_reads_and_the_pool_grows(
    policy_pool: Pool, tmp_path: Path
) -> None:
    pool = tmp_path / "pool"
    shutil.copytree(policy_pool.root, pool)
    target = tmp_path / "ft.safetensors"
    code, out = _run("finetune", str(pool), "--task", TASK, "--out", str(target),
                     "--candidates", "2", "--train-placements", "2", "--steps", "20",
                     "--add-to-pool", *FAST)  # fmt: skip
    assert code == 0, out  # the tiny reach BC solves some placements (seed 000's guard passes)
    report = json.loads(target.with_suffix(".json").read_text())
    assert set(report) >= {"before", "after", "train_kl", "losses"}
    assert report["rollouts"] == 4
    assert load_policy(target).action_dim == 4
    assert "policy_checkpoint_3" in set(open_pool(pool).manifest["source"])
    code, out = _run("evaluate", str(pool), "--task", TASK, "--policy", str(target), *FAST)
    assert code == 0 and "success" in out, out


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--task", "fly-v3"], "fly-v3"),
        (["--task", TASK, "--policy", "missing.safetensors"], "missing.safetensors"),
        (["--task", TASK, "--checkpoint", "9"], "checkpoint"),
        (["--task", TASK, "--placements", "0"], "placements"),
        (["--task", TASK, "--reward", "no-such-model"], "no-such-model"),
    ],
)
def test_bad_input_exits_2_naming_it(policy_pool: Pool, args: list[str], names: str) -> None:
    code, out = _run("best-of-n", str(policy_pool.root), *args, "--workers", "1")
    assert code == 2, out
    assert names in out


def test_finetune_refuses_bad_outputs_and_overlaps(policy_pool: Pool, tmp_path: Path) -> None:
    code, out = _run("finetune", str(policy_pool.root), "--task", TASK,
                     "--out", str(tmp_path / "x.pt"))  # fmt: skip
    assert code == 2 and "--out" in out
    target = str(tmp_path / "x.safetensors")
    code, out = _run("finetune", str(policy_pool.root), "--task", TASK,
                     "--out", target, "--first-train-placement", "30000")  # fmt: skip
    assert code == 2 and "overlap" in out
    assert not (tmp_path / "x.safetensors").exists()


def test_a_pool_without_checkpoints_names_the_task(tmp_path: Path) -> None:
    pool = tiny_pool(tmp_path / "pool")
    code, out = _run("evaluate", str(pool.root), "--task", TASK, "--workers", "1")
    assert code == 2 and TASK in out and "BC checkpoints" in out

"""The resumable policy loop on a tiny state-only Meta-World pool, and its report."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from safetensors.numpy import load_file
from tests.policy.conftest import TASK, TINY

from robopref.campaign.loop_state import PolicyLoopConfig, RoundRecord
from robopref.campaign.loop_work import read_records, round_dir
from robopref.campaign.policy_loop import run_policy_loop
from robopref.campaign.policy_report import write_report
from robopref.errors import InputError
from robopref.policy.best_of_n import BestOfNConfig
from robopref.policy.finetune import FinetuneConfig
from robopref.policy.gaussian import GaussianPolicy
from robopref.policy.rollouts import RolloutRunner, RolloutSettings
from robopref.pool.generate import generate_pool
from robopref.pool.generate.generator import POLICIES
from robopref.pool.pool import Pool, open_pool
from robopref.reward import EncoderConfig, RewardModel, TrainConfig, train_reward_model
from robopref.testing.preferences import synthetic_preferences

SETTINGS = RolloutSettings(max_steps=40, settle_steps=5)
CONFIG = PolicyLoopConfig(
    rounds=2,
    initial_labels=20,
    labels_per_round=10,
    candidates=BestOfNConfig(n=2),
    train_placements=(20_000, 20_001, 20_002),
    test_placements=(30_000, 30_001, 30_002),
    finetune=FinetuneConfig(steps=20, batch=64),
)


@pytest.fixture(scope="module")
def base_pool(tmp_path_factory: pytest.TempPathFactory) -> Pool:
    return generate_pool(TINY, tmp_path_factory.mktemp("loop") / "pool")


@pytest.fixture(scope="module")
def runner() -> Iterator[RolloutRunner]:
    with RolloutRunner(SETTINGS, workers=2) as r:
        yield r


@pytest.fixture
def pool_path(base_pool: Pool, tmp_path: Path) -> Path:
    return Path(shutil.copytree(base_pool.root, tmp_path / "pool"))


def _reference(pool: Path) -> GaussianPolicy:
    path = pool / POLICIES / "bc-s0" / TASK / "checkpoint_2.safetensors"
    return GaussianPolicy(load_file(str(path))).with_min_std(0.05)


def _label(pool: Pool, n_pairs: int, seed: int) -> pd.DataFrame:
    return synthetic_preferences(pool, n_pairs=n_pairs, seed=seed, epsilon=0.1)


def _train(prefs: pd.DataFrame, pool: Pool) -> RewardModel:
    config = TrainConfig(
        encoder=EncoderConfig(kind="state"),
        ensemble_size=1,
        epochs=3,
        test_fraction=0.05,
        device="cpu",
    )
    return train_reward_model(prefs, pool, config).model


class _FailsOnce:
    """A reward trainer that crashes on its `at`-th call, then trains normally."""

    def __init__(self, at: int) -> None:
        self.calls, self.at = 0, at

    def __call__(self, prefs: pd.DataFrame, pool: Pool) -> RewardModel:
        self.calls += 1
        if self.calls == self.at:
            raise RuntimeError("simulated crash while training")
        return _train(prefs, pool)


def _never(prefs: pd.DataFrame, pool: Pool) -> RewardModel:
    raise AssertionError("a finished run trained again")


def _tiers(pool: Path) -> list[str]:
    sources = open_pool(pool).manifest["source"].astype(str)
    return sorted(set(sources[sources.str.startswith("policy_checkpoint_")]))


def _figures(records: list[RoundRecord]) -> list[dict[str, object]]:
    return [{k: v for k, v in r.as_dict().items() if "seconds" not in k} for r in records]


@pytest.mark.sim
def test_loop_resumes_after_a_crash_without_adding_a_tier_twice(
    base_pool: Pool, pool_path: Path, runner: RolloutRunner, tmp_path: Path
) -> None:
    reference, work = _reference(pool_path), tmp_path / "work"
    before = _tiers(pool_path)
    crash = _FailsOnce(at=2)  # round 1's retraining, after its tier went into the pool
    with pytest.raises(RuntimeError, match="simulated crash"):
        run_policy_loop(
            runner, pool_path, TASK, reference, CONFIG, label=_label, train=crash, work=work
        )
    assert round_dir(work, 0).is_dir() and not round_dir(work, 1).exists()
    first = read_records(work)
    assert [r.round for r in first] == [0]
    added = [t for t in _tiers(pool_path) if t not in before]
    assert len(added) == 2  # round 0's and the crashed round 1's

    records = run_policy_loop(
        runner, pool_path, TASK, reference, CONFIG, label=_label, train=_train, work=work
    )
    assert [r.round for r in records] == [0, 1, 2]
    assert records[0] == first[0]  # read back, not run again
    assert [r.labels for r in records] == [20, 30, 30]
    assert [r.tier for r in records] == [added[0], added[1], None]  # round 1 reused its tier
    assert [t for t in _tiers(pool_path) if t not in before] == added
    for r in range(3):
        folder = round_dir(work, r)
        assert (folder / "policy.safetensors").is_file() and (folder / "reward").is_dir()
        assert len(pd.read_parquet(folder / "preferences.parquet")) == records[r].labels
        assert json.loads((folder / "round.json").read_text())["record"]["round"] == r
    assert all(0.0 <= r.success <= 1.0 and r.kl_to_reference is not None for r in records)
    assert records[0].kl_to_reference == pytest.approx(0.0, abs=1e-6)

    again = run_policy_loop(
        runner, pool_path, TASK, reference, CONFIG, label=_label, train=_never, work=work
    )
    assert again == records and [t for t in _tiers(pool_path) if t not in before] == added

    # A run that never stopped reaches the same figures on its own copy of the pool.
    fresh_pool = Path(shutil.copytree(base_pool.root, tmp_path / "fresh"))
    straight = run_policy_loop(
        runner, fresh_pool, TASK, reference, CONFIG, label=_label, train=_train,
        work=tmp_path / "straight",
    )  # fmt: skip
    assert _figures(straight) == _figures(records)


@pytest.mark.sim
def test_work_folder_refusals(pool_path: Path, runner: RolloutRunner, tmp_path: Path) -> None:
    reference = _reference(pool_path)
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "mine.txt").write_text("keep")
    with pytest.raises(InputError) as info:
        run_policy_loop(
            runner, pool_path, TASK, reference, CONFIG, label=_label, train=_train, work=notes
        )
    assert info.value.path == str(notes) and [p.name for p in notes.iterdir()] == ["mine.txt"]
    work = tmp_path / "work"
    one = replace(CONFIG, rounds=1)
    run_policy_loop(runner, pool_path, TASK, reference, one, label=_label, train=_train, work=work)
    tiers = _tiers(pool_path)
    with pytest.raises(InputError) as info:
        run_policy_loop(
            runner, pool_path, TASK, reference, CONFIG, label=_label, train=_never, work=work
        )
    assert info.value.field == "config" and _tiers(pool_path) == tiers


def _record(r: int, success: float) -> RoundRecord:
    return RoundRecord(
        round=r, labels=400 + 150 * r, annotator_hours=1.0 + r, success=success,
        mean_return=100.0 * success, mean_quality=0.5, kl_to_reference=0.1 * r or None,
        reward_pair_accuracy=0.7, reward_spearman=None if r == 0 else 0.5,
        top_quarter_failures=0.25, truth_top_quarter_failures=0.0,
        tier=f"policy_checkpoint_{4 + r}", wall_seconds=60.0, cpu_seconds=90.0,
    )  # fmt: skip


def test_report_names_every_round_and_embeds_its_plots(tmp_path: Path) -> None:
    records = {"push-v3": [_record(r, 0.2 * r) for r in range(3)], "reach-v3": [_record(0, 0.5)]}
    json_path, html_path = write_report(records, tmp_path / "run", title="run", settings={})
    report = json.loads(json_path.read_text())
    assert [row["round"] for row in report["tasks"]["push-v3"]] == [0, 1, 2]
    assert report["totals"]["labels"] == 700 + 400
    html = html_path.read_text()
    for r in range(3):
        assert f"round {r}" in html
    assert "push-v3" in html and "reach-v3" in html
    assert html.count("data:image/png;base64,") == 2
    assert (tmp_path / "run" / "success.png").read_bytes()[:4] == b"\x89PNG"

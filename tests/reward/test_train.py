import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import spearmanr

import robopref.pool
from robopref.errors import InputError
from robopref.pool import Pool
from robopref.reward import (
    EncoderConfig,
    EpochStats,
    LossConfig,
    Temporal,
    TieMode,
    TrainConfig,
    score_pool,
    train_reward_model,
)
from robopref.reward.features import build_table
from robopref.testing import synthetic_preferences, tiny_pool

from .conftest import state_config


def true_accuracy(scores: dict[str, float], pairs: pd.DataFrame, truth: dict[str, float]) -> float:
    """Held-out accuracy against the ground truth (not the noisy labels)."""
    decisive = [
        (a, b)
        for a, b in zip(pairs.trajectory_a_id, pairs.trajectory_b_id, strict=True)
        if truth[a] != truth[b]
    ]
    return float(np.mean([(scores[a] > scores[b]) == (truth[a] > truth[b]) for a, b in decisive]))


def pool_scores(model: object, pool: Pool) -> dict[str, float]:
    ids = list(pool.manifest["trajectory_id"])
    return dict(zip(ids, model.score(pool[t] for t in ids), strict=True))  # type: ignore[attr-defined]


def truth_of(pool: Pool) -> dict[str, float]:
    return dict(zip(pool.manifest["trajectory_id"], pool.manifest["quality_score"], strict=True))


def test_state_encoder_learns_the_true_ranking(state_prefs: pd.DataFrame, state_pool: Pool) -> None:
    # 400 pairs, 10% teacher mistakes, 60 trajectories; seed fixed.
    result = train_reward_model(state_prefs, state_pool, state_config())
    scores, truth = pool_scores(result.model, state_pool), truth_of(state_pool)
    assert true_accuracy(scores, result.pairs("test"), truth) >= 0.85
    rho = spearmanr([scores[t] for t in truth], list(truth.values())).statistic
    assert rho >= 0.85


def test_same_seed_gives_identical_models(state_prefs: pd.DataFrame, state_pool: Pool) -> None:
    config = state_config(epochs=5, ensemble_size=2)
    first = train_reward_model(state_prefs, state_pool, config)
    second = train_reward_model(state_prefs, state_pool, config)
    trajectories = [state_pool[t] for t in state_pool.manifest["trajectory_id"][:10]]
    assert first.splits == second.splits
    assert np.array_equal(first.model.score(trajectories), second.model.score(trajectories))
    other = train_reward_model(state_prefs, state_pool, state_config(epochs=5, seed=1))
    assert not np.array_equal(first.model.score(trajectories), other.model.score(trajectories))


def test_ensemble_members_differ_and_report_spread(trained: object) -> None:
    model, metrics = trained.model, trained.metrics  # type: ignore[attr-defined]
    assert model.n_members == 2
    spread = metrics["test_accuracy_members"]
    assert len(spread["values"]) == 2 and spread["std"] >= 0
    assert spread["mean"] == pytest.approx(np.mean(spread["values"]))
    seeds = [m["seed"] for m in model.record["members"]]
    assert len(set(seeds)) == 2


def test_progress_and_epoch_stats_reach_the_callbacks(
    state_prefs: pd.DataFrame, state_pool: Pool
) -> None:
    done: list[tuple[int, int]] = []
    stats: list[EpochStats] = []
    config = state_config(epochs=4, patience=10, ensemble_size=2)
    train_reward_model(
        state_prefs,
        state_pool,
        config,
        progress=lambda d, t: done.append((d, t)),
        on_epoch=stats.append,
    )
    assert done[-1] == (8, 8)
    assert [(s.member, s.epoch) for s in stats] == [(m, e) for m in range(2) for e in range(1, 5)]
    assert all(np.isfinite(s.loss) and 0.0 <= s.val_accuracy <= 1.0 for s in stats)
    assert stats[0].loss > stats[3].loss  # the loss falls


def test_early_stopping_keeps_the_best_validation_epoch(
    state_prefs: pd.DataFrame, state_pool: Pool
) -> None:
    result = train_reward_model(state_prefs, state_pool, state_config(epochs=60, patience=3))
    member = result.model.record["members"][0]
    assert member["epochs_run"] == member["best_epoch"] + 3 or member["epochs_run"] == 60
    assert result.metrics["val_accuracy"] == pytest.approx(member["val_accuracy"])


def test_margin_ties_pull_tied_rewards_together(state_pool: Pool) -> None:
    prefs = synthetic_preferences(state_pool, n_pairs=400, seed=2, equal_threshold=0.1)
    ties = prefs[prefs["preference"] == 0.5]
    assert len(ties) > 20
    config = state_config(loss=LossConfig(tie_mode=TieMode.MARGIN, tie_margin=0.2))
    model = train_reward_model(prefs, state_pool, config).model
    scores = pool_scores(model, state_pool)

    def gap(rows: pd.DataFrame) -> float:
        pairs = zip(rows.trajectory_a_id, rows.trajectory_b_id, strict=True)
        return float(np.mean([abs(scores[a] - scores[b]) for a, b in pairs]))

    assert gap(ties) < 0.5 * gap(prefs[prefs["preference"] != 0.5])


@pytest.mark.parametrize("temporal", [Temporal.CONV, Temporal.TRANSFORMER])
def test_other_temporal_aggregations_train(
    state_prefs: pd.DataFrame, state_pool: Pool, temporal: Temporal
) -> None:
    encoder = EncoderConfig(
        kind="state", language=False, n_steps=8, hidden_dim=32, embed_dim=16, temporal=temporal
    )
    result = train_reward_model(state_prefs, state_pool, state_config(encoder=encoder, epochs=15))
    assert result.metrics["test_accuracy"] >= 0.7


@pytest.fixture(scope="module")
def image_pool(tmp_path_factory: pytest.TempPathFactory) -> Pool:
    return tiny_pool(tmp_path_factory.mktemp("img") / "pool", n=30, frame_size=32, seed=1)


def test_image_encoder_trains_end_to_end_on_tiny_frames(image_pool: Pool, tmp_path: Path) -> None:
    prefs = synthetic_preferences(image_pool, n_pairs=300, seed=0)
    encoder = EncoderConfig(
        kind="conv", language=False, n_steps=6, image_size=32, embed_dim=32, hidden_dim=32
    )
    config = TrainConfig(
        encoder=encoder,
        epochs=25,
        patience=8,
        ensemble_size=1,
        device="cpu",
        cache_dir=tmp_path / "cache",
    )
    result = train_reward_model(prefs, image_pool, config)
    assert (
        true_accuracy(
            pool_scores(result.model, image_pool), result.pairs("test"), truth_of(image_pool)
        )
        >= 0.8
    )
    cached = list((tmp_path / "cache").glob("frames-*/*.npy"))
    assert len(cached) == 30 and np.load(cached[0]).shape == (6, 32, 32, 3)
    table = score_pool(result.model, image_pool, cache_dir=tmp_path / "cache")  # from the cache
    direct = result.model.score(image_pool[t] for t in table["trajectory_id"])  # decoded again
    assert np.allclose(table["reward"], direct, atol=1e-5)


def test_frame_cache_serves_frames_without_decoding(image_pool: Pool, tmp_path: Path) -> None:
    shutil.copytree(image_pool.root, tmp_path / "pool")
    pool = robopref.pool.open(tmp_path / "pool")
    encoder = EncoderConfig(kind="conv", language=False, n_steps=4, image_size=16)
    ids = list(pool.manifest["trajectory_id"][:3])

    def table(cache: Path | None) -> torch.Tensor:
        built = build_table(
            pool, ids, config=encoder, camera="front", embedder=None, cache_root=cache
        )
        return built.x

    first = table(tmp_path / "cache")
    assert first.shape == (3, 4, 16, 16, 3) and first.dtype == torch.uint8
    for video in (tmp_path / "pool").glob("trajectories/*/front.mp4"):
        video.write_bytes(b"")  # decoding is no longer possible
    assert torch.equal(table(tmp_path / "cache"), first)
    with pytest.raises(InputError, match="cannot decode"):  # without the cache it must decode
        table(None)


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("epochs", {"epochs": 0}),
        ("lr", {"lr": 0.0}),
        ("split", {"split": "random"}),
        ("device", {"device": "tpu"}),
    ],
)
def test_bad_train_config_names_the_field(field: str, kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=field):
        TrainConfig(**kwargs)  # type: ignore[arg-type]


def test_bad_encoder_kind_names_the_field() -> None:
    with pytest.raises(ValueError, match="kind"):
        EncoderConfig(kind="vit")

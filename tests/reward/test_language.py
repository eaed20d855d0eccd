from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from robopref.pool import Pool
from robopref.reward import EncoderConfig, train_reward_model
from robopref.reward.language import EMBED_DIM, TaskEmbedder
from robopref.testing import synthetic_preferences, tiny_pool

from .conftest import state_config

TASKS = ("reach the red target", "keep away from the red target")


def test_embeddings_are_offline_normalised_and_cached(tmp_path: Path) -> None:
    embedder = TaskEmbedder(tmp_path)
    vectors = embedder.embed([TASKS[0], TASKS[1], TASKS[0]])
    assert vectors.shape == (3, EMBED_DIM) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(vectors[0], vectors[2]) and not np.allclose(vectors[0], vectors[1])
    assert len(list(tmp_path.glob("*.npy"))) == 2  # one file per instruction
    assert np.array_equal(TaskEmbedder(tmp_path).embed([TASKS[1]])[0], vectors[1])


@pytest.fixture(scope="module")
def two_task_pool(tmp_path_factory: pytest.TempPathFactory) -> Pool:
    return tiny_pool(tmp_path_factory.mktemp("lang") / "pool", n=30, frame_size=None, tasks=TASKS)


def opposite_preferences(pool: Pool) -> pd.DataFrame:
    """Task 0 prefers high quality, task 1 low quality: only the instruction tells them apart."""
    prefs = synthetic_preferences(pool, n_pairs=700, seed=0)
    flip = prefs["task"] == TASKS[1]
    prefs.loc[flip, "preference"] = 1.0 - prefs.loc[flip, "preference"]
    return prefs


def test_language_conditioning_learns_opposite_tasks(two_task_pool: Pool) -> None:
    prefs = opposite_preferences(two_task_pool)
    encoder = EncoderConfig(kind="state", language=True, n_steps=8, hidden_dim=64, embed_dim=32)
    result = train_reward_model(
        prefs, two_task_pool, state_config(encoder=encoder, epochs=60, lr=3e-3)
    )
    assert result.metrics["test_accuracy"] >= 0.85
    without = EncoderConfig(kind="state", language=False, n_steps=8, hidden_dim=64, embed_dim=32)
    blind = train_reward_model(prefs, two_task_pool, state_config(encoder=without, epochs=20))
    # Without the instruction only memorising trajectories helps (about 0.65 here).
    assert blind.metrics["test_accuracy"] < 0.75
    assert result.metrics["test_accuracy"] - blind.metrics["test_accuracy"] >= 0.15

    # The same trajectory, re-labelled with the other instruction, scores the other way round.
    model = result.model
    ids = [t for t in two_task_pool.manifest["trajectory_id"] if t.startswith("syn-00-")]
    trajectories = [two_task_pool[t] for t in ids]
    quality = two_task_pool.manifest.set_index("trajectory_id").loc[ids, "quality_score"]
    inputs = model.inputs(trajectories)
    as_task0 = model.score_inputs(
        inputs._replace(task_embedding=model.embed_tasks([TASKS[0]] * len(ids)))
    ).mean(1)
    as_task1 = model.score_inputs(
        inputs._replace(task_embedding=model.embed_tasks([TASKS[1]] * len(ids)))
    ).mean(1)
    assert np.corrcoef(as_task0, quality)[0, 1] > 0.8
    assert np.corrcoef(as_task1, quality)[0, 1] < -0.8

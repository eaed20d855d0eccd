"""A tiny state-only Meta-World pool with BC checkpoints, shared by the policy tests."""

from __future__ import annotations

import pytest

from robopref.pool.config import GenerateConfig
from robopref.pool.generate import generate_pool
from robopref.pool.pool import Pool

TASK = "reach-v3"
TINY = GenerateConfig(
    tasks=(TASK,),
    experts=2,
    novices=2,
    checkpoints=2,
    per_checkpoint=1,
    scripted_failures=0,
    randoms=1,
    bc_demos=4,
    bc_steps=120,
    max_steps=40,
    frames=False,
    workers=1,
)


@pytest.fixture(scope="module")
def policy_pool(tmp_path_factory: pytest.TempPathFactory) -> Pool:
    """2 expert, 2 novice, 2 BC-checkpoint and 1 random reach episodes (40 steps), no frames."""
    return generate_pool(TINY, tmp_path_factory.mktemp("policy") / "pool")

"""A store with one batch of 24 pairs (and reversed duplicates) over a 16-trajectory pool."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from robopref.pairs import PairsConfig, select_pairs
from robopref.store import Store, create_batch, sync_trajectories

ANNOTATORS = ("a1", "a2", "a3", "a4", "a5")


def seed_store(store: Store, manifest: pd.DataFrame) -> str:
    """Sync `manifest` and create batch `b1`: 24 pairs, 3 of `ANNOTATORS` per pair."""
    sync_trajectories(store, manifest)
    config = PairsConfig(batch_size=24, annotators_per_pair=3, duplicate_frac=0.25, seed=0)
    batch = select_pairs(manifest, config, annotator_ids=ANNOTATORS, batch_id="b1")
    create_batch(store, batch)
    return batch.batch_id


@pytest.fixture
def manifest(tiny_pool: Callable[..., object]) -> pd.DataFrame:
    return tiny_pool(n=16, frame_size=None).manifest  # type: ignore[attr-defined, no-any-return]

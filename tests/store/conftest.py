"""Fixtures for store tests: a small manifest and a hand-built batch over it."""

from __future__ import annotations

import pandas as pd
import pytest

from robopref.pairs.records import AssignmentSpec, PairBatch, PairSpec, RankingSetSpec
from robopref.types import BatchKind, Choice, PairKind, Stratum

ANNOTATORS = ("ann-1", "ann-2", "ann-3")


def make_manifest(n: int = 8) -> pd.DataFrame:
    """n trajectories of one task with scores 0..n-1 and quartiles by score."""
    return pd.DataFrame({
        "trajectory_id": [f"t{i:02d}" for i in range(n)],
        "task": "reach the red target",
        "env_id": "synthetic-reach-v0",
        "source": ["random", "scripted", "novice", "expert"] * (n // 4),
        "quality_score": [float(i) for i in range(n)],
        "quartile": [1 + i * 4 // n for i in range(n)],
        "clip_path": [f"clips/t{i:02d}.mp4" for i in range(n)],
    })


def make_batch(
    batch_id: str = "b1", annotators: tuple[str, ...] = ANNOTATORS, n: int = 8
) -> PairBatch:
    """Regular pairs (i, i+1), one gold pair (0, n-1), a reversed duplicate, a ranking set."""
    q = [1 + i * 4 // n for i in range(n)]
    pairs = [
        PairSpec(pair_id=f"{batch_id}-p{i}", trajectory_a_id=f"t{i:02d}",
                 trajectory_b_id=f"t{i + 1:02d}", task="reach the red target",
                 kind=PairKind.REGULAR, stratum=Stratum.SAME if q[i] == q[i + 1]
                 else Stratum.ADJACENT, quartile_a=q[i], quartile_b=q[i + 1])
        for i in range(n - 1)
    ]
    pairs.append(PairSpec(
        pair_id=f"{batch_id}-gold", trajectory_a_id=f"t{n - 1:02d}", trajectory_b_id="t00",
        task="reach the red target", kind=PairKind.GOLD, stratum=Stratum.DISTANT,
        quartile_a=4, quartile_b=1, expected=Choice.A))
    pairs.append(PairSpec(
        pair_id=f"{batch_id}-dup", trajectory_a_id="t01", trajectory_b_id="t00",
        task="reach the red target", kind=PairKind.DUPLICATE, stratum=Stratum.SAME,
        quartile_a=q[1], quartile_b=q[0], duplicate_of=f"{batch_id}-p0"))
    assignments = tuple(
        AssignmentSpec(pair_id=p.pair_id, annotator_id=a,
                       left_trajectory_id=p.trajectory_a_id if (j + k) % 2 else p.trajectory_b_id)
        for k, a in enumerate(annotators)
        for j, p in enumerate(pairs)
    )
    ranking = RankingSetSpec(ranking_set_id=f"{batch_id}-r1", task="reach the red target",
                             trajectory_ids=("t00", "t02", "t04", "t06", "t07"),
                             annotator_ids=annotators[:2])
    return PairBatch(batch_id=batch_id, kind=BatchKind.PRODUCTION, pairs=tuple(pairs),
                     assignments=assignments, ranking_sets=(ranking,))


@pytest.fixture
def filled(store: object) -> object:
    """The store with 8 trajectories synced and batch `b1` created."""
    from robopref.store import create_batch, sync_trajectories

    sync_trajectories(store, make_manifest())  # type: ignore[arg-type]
    create_batch(store, make_batch())  # type: ignore[arg-type]
    return store

"""QA on the frames the real store returns (SQLite): the column contract end to end."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from robopref.pairs import PairsConfig, select_pairs
from robopref.quality import QAConfig, run_qa
from robopref.store import (
    annotations_frame,
    create_batch,
    pairs_frame,
    submit_annotation,
    sync_trajectories,
)
from robopref.store.records import Submission
from robopref.store.session import open_store


def test_qa_runs_on_store_frames(tiny_pool: Callable[..., object], tmp_path: Path) -> None:
    pool = tiny_pool(n=40, frame_size=None, tasks=("reach red", "reach blue"))
    manifest = pool.manifest  # type: ignore[attr-defined]
    store = open_store(f"sqlite:///{tmp_path / 'robopref.db'}")
    sync_trajectories(store, manifest)
    batch = select_pairs(
        manifest, PairsConfig(batch_size=60, duplicate_frac=0.1), annotator_ids=["a", "b", "c", "d"]
    )
    create_batch(store, batch)
    score = dict(zip(manifest["trajectory_id"], manifest["quality_score"], strict=True))
    pairs = {p.pair_id: p for p in batch.pairs}
    rng = np.random.default_rng(0)
    for n, a in enumerate(batch.assignments):
        p = pairs[a.pair_id]
        gap = score[p.trajectory_a_id] - score[p.trajectory_b_id]
        answer = "equal" if gap == 0 else ("A" if gap > 0 else "B")
        submit_annotation(
            store,
            Submission(
                annotator_id=a.annotator_id,
                pair_id=a.pair_id,
                preference=answer,
                confidence=4,
                response_time_ms=int(rng.integers(5000, 15000)),
                left_trajectory_id=a.left_trajectory_id,
                idempotency_key=f"k{n}",
            ),
        )
    result = run_qa(
        annotations_frame(store), pairs_frame(store), QAConfig(), out_dir=tmp_path / "qa"
    )
    summary = result.report.summary
    assert summary["annotations"] == len(batch.assignments)
    assert summary["alpha"] == 1.0 and summary["gold_accuracy"] == 1.0
    assert summary["flagged"] == []
    assert len(result.preferences) == 60
    assert (result.preferences["agreement"] == 1.0).all()

"""Planted annotations: careful annotators, a speeder, a left-clicker and an inconsistent one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from robopref.pairs import PairBatch, PairsConfig, select_pairs


def build_manifest(*, n: int, tasks: tuple[str, ...] = ("reach", "push")) -> pd.DataFrame:
    """`n` trajectories per task with random scores and rank quartiles."""
    rng = np.random.default_rng(0)
    frames = []
    for task in tasks:
        score = rng.normal(size=n)
        rank = pd.Series(score).rank(method="first").to_numpy()
        quartile = np.clip(np.floor((rank - 0.5) / n * 4).astype(int) + 1, 1, 4)
        ids = [f"{task}-{i:04d}" for i in range(n)]
        frames.append(
            pd.DataFrame(
                {"trajectory_id": ids, "task": task, "quality_score": score, "quartile": quartile}
            )
        )
    return pd.concat(frames, ignore_index=True)


@dataclass(frozen=True)
class Profile:
    """How a planted annotator answers."""

    kind: str  # careful | speeder | left | inconsistent
    time_ms: float = 9000.0


PROFILES = {
    **{f"careful-{i}": Profile("careful") for i in range(6)},
    "speeder": Profile("speeder", time_ms=1200.0),
    "lefty": Profile("left"),
    "flipper": Profile("inconsistent"),
}


def _answer(profile: Profile, gap: float, left_is_a: bool, rng: np.random.Generator) -> str:
    if profile.kind == "speeder":
        return str(rng.choice(["A", "B", "equal"], p=[0.45, 0.45, 0.1]))
    if profile.kind == "left":
        return "A" if left_is_a else "B"
    if abs(gap) < 0.05:
        return "equal"
    p_a = 1.0 / (1.0 + np.exp(-gap * 30.0))
    if profile.kind == "inconsistent":
        p_a = 0.5 + (p_a - 0.5) * 0.3
    return "A" if rng.random() < p_a else "B"


def simulate(batch: PairBatch, scores: dict[str, float], *, seed: int = 0) -> pd.DataFrame:
    """One annotation per assignment, answered according to the annotator's profile."""
    rng = np.random.default_rng(seed)
    pairs = {p.pair_id: p for p in batch.pairs}
    rows = []
    start = pd.Timestamp("2025-01-01", tz="UTC")
    for n, a in enumerate(batch.assignments):
        pair = pairs[a.pair_id]
        profile = PROFILES[a.annotator_id]
        gap = scores[pair.trajectory_a_id] - scores[pair.trajectory_b_id]
        answer = _answer(profile, gap, a.left_trajectory_id == pair.trajectory_a_id, rng)
        rows.append(
            {
                "annotation_id": f"an-{batch.batch_id}-{n:05d}",
                "pair_id": pair.pair_id,
                "trajectory_a_id": pair.trajectory_a_id,
                "trajectory_b_id": pair.trajectory_b_id,
                "annotator_id": a.annotator_id,
                "preference": answer,
                "confidence": int(rng.integers(2, 6)),
                "response_time_ms": int(
                    max(300.0, rng.normal(profile.time_ms, profile.time_ms * 0.15))
                ),
                "free_text_reason": None,
                "left_trajectory_id": a.left_trajectory_id,
                "batch_id": batch.batch_id,
                "rubric_answers": None,
                "interface_version": "test",
                "shown_at": start + pd.Timedelta(seconds=n),
                "created_at": start + pd.Timedelta(seconds=n + 5),
            }
        )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Planted:
    annotations: pd.DataFrame
    pairs: pd.DataFrame
    manifest: pd.DataFrame


@pytest.fixture(scope="session")
def planted() -> Planted:
    """Two production batches of 300 pairs over nine planted annotators."""
    manifest = build_manifest(n=160)
    scores = dict(zip(manifest["trajectory_id"], manifest["quality_score"], strict=True))
    annotations, pairs = [], []
    for b in range(2):
        config = PairsConfig(batch_size=300, duplicate_frac=0.25, seed=b)
        batch = select_pairs(manifest, config, annotator_ids=list(PROFILES))
        annotations.append(simulate(batch, scores, seed=b))
        pairs.append(batch.pairs_frame())
    return Planted(
        pd.concat(annotations, ignore_index=True), pd.concat(pairs, ignore_index=True), manifest
    )


@pytest.fixture
def make_annotations() -> Callable[..., pd.DataFrame]:
    """Factory for hand-made annotation frames: rows of (pair_id, annotator, preference[, left])."""

    def make(rows: list[tuple[str, ...]], pairs: pd.DataFrame) -> pd.DataFrame:
        by_id = pairs.set_index("pair_id")
        out = []
        for n, row in enumerate(rows):
            pair_id, annotator, preference = row[:3]
            left = row[3] if len(row) > 3 else by_id.loc[pair_id, "trajectory_a_id"]
            out.append(
                {
                    "annotation_id": f"h{n}",
                    "pair_id": pair_id,
                    "trajectory_a_id": by_id.loc[pair_id, "trajectory_a_id"],
                    "trajectory_b_id": by_id.loc[pair_id, "trajectory_b_id"],
                    "annotator_id": annotator,
                    "preference": preference,
                    "confidence": 4,
                    "response_time_ms": 8000,
                    "left_trajectory_id": left,
                    "created_at": pd.Timestamp("2025-01-01", tz="UTC"),
                }
            )
        return pd.DataFrame(out)

    return make

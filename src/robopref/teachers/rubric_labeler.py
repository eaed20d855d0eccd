"""The rubric labeler: seed 000's rubric applied to a pair's observable metrics, as an AI label.

It reads the manifest's metric columns only (success, collisions, clearance, path
efficiency, jerk, gripper changes, progress, time to success, durations and the task),
rescores each trajectory with `robopref.pool.score_manifest`, and answers from the gap of
the two scores: P(A ≻ B) = σ(gap / temperature). It never reads `quality_score`,
`quartile`, `tier`, `source` or `true_return` (they are dropped before anything is
computed), so its accuracy against the simulator's return is an honest figure.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Collection
from dataclasses import asdict, dataclass, field, fields

import pandas as pd

from robopref.errors import InputError
from robopref.pool import PoolConfig, TrajectoryMetrics, score_manifest
from robopref.teachers.labeler import Answer, PairView, Provenance, confidence_from_p
from robopref.types import Choice

RUBRIC_LABELER_VERSION = 1
"""Version of the labeler's code; its provenance adds a digest of its config."""

OBSERVABLE_COLUMNS = (
    "trajectory_id",
    "task",
    "duration_s",
    "horizon_s",
    *(f.name for f in fields(TrajectoryMetrics)),
)
"""The manifest columns the rubric labeler reads; every other column is dropped unread."""

_OPTIONAL = ("horizon_s",)
"""Observable columns a manifest may lack (the task's longest duration stands in)."""


@dataclass(frozen=True, kw_only=True)
class RubricLabelerConfig:
    """How rubric gaps become answers."""

    rubric: PoolConfig = field(default_factory=PoolConfig)
    """Rubric weights and metric thresholds (seed 000; the pool's own by default)."""
    temperature: float = 0.5
    """Rubric points per unit of log-odds: P(A ≻ B) = σ(gap / temperature). One minor
    collision (0.5 points) alone gives P = 0.73."""
    abstain_gap: float = 0.05
    """Abstain when the rubric scores differ by less (it cannot tell), and always when both
    trajectories are disqualified (both rank lowest)."""
    equal_gap: float = 0.0
    """Answer `equal` when the gap is at least `abstain_gap` but below this (0: never)."""

    def __post_init__(self) -> None:
        if not self.temperature > 0:
            raise ValueError(f"temperature must be > 0, got {self.temperature}")
        if self.abstain_gap < 0 or self.equal_gap < 0:
            raise ValueError("abstain_gap and equal_gap must be >= 0")

    @property
    def digest(self) -> str:
        """First 8 hex of the sha256 of the config: part of the labeler's version."""
        text = json.dumps(asdict(self), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:8]


@dataclass(frozen=True)
class _Scored:
    score: float
    disqualified: bool


class RubricLabeler:
    """An AI labeler that applies the rubric to the observable metrics of both trajectories.

    Args:
        manifest: A pool manifest (or any frame with `OBSERVABLE_COLUMNS`); only those
            columns are read.
        annotator_id: The store annotator whose assignments it answers.
        config: Temperature, abstention and tie bands, rubric weights.

    Raises:
        InputError: A required metric column is missing.
    """

    def __init__(
        self,
        manifest: pd.DataFrame,
        *,
        annotator_id: str = "ai-rubric",
        config: RubricLabelerConfig | None = None,
    ) -> None:
        self.config = config or RubricLabelerConfig()
        self.annotator_id = annotator_id
        """The store annotator it answers as."""
        self.provenance = Provenance(
            labeler="rubric",
            version=f"{RUBRIC_LABELER_VERSION}.{self.config.digest}",
            is_human=False,
        )
        """`ai:rubric/<version>.<config digest>`."""
        self.scores = rubric_scores(manifest, self.config.rubric)
        """Trajectory id → its rubric score and disqualification."""

    def check_trajectories(self, trajectory_ids: Collection[str]) -> None:
        """Refuse trajectories the manifest it was built from lacks.

        Raises:
            InputError: Field `trajectory_id`, naming up to five of them.
        """
        missing = sorted(set(trajectory_ids) - set(self.scores))
        if missing:
            raise InputError("rubric labeler", "trajectory_id", f"no metrics for {missing[:5]}")

    def label(self, pair: PairView, *, seed: int) -> Answer | None:
        """The rubric's answer (deterministic; `seed` is unused), or None when it cannot tell."""
        del seed
        start = time.perf_counter()
        a, b = self.scores[pair.trajectory_a_id], self.scores[pair.trajectory_b_id]
        gap = a.score - b.score
        if (a.disqualified and b.disqualified) or abs(gap) < self.config.abstain_gap:
            return None
        if abs(gap) < self.config.equal_gap:
            choice, p_a = Choice.EQUAL, 0.5
        else:
            choice = Choice.A if gap > 0 else Choice.B
            p_a = 1.0 / (1.0 + math.exp(-gap / self.config.temperature))
        elapsed_ms = max(1, round(1000 * (time.perf_counter() - start)))
        return Answer(choice, confidence_from_p(p_a), elapsed_ms, p_a=p_a)


def rubric_scores(manifest: pd.DataFrame, rubric: PoolConfig) -> dict[str, _Scored]:
    """Trajectory id → rubric score and disqualification, from `OBSERVABLE_COLUMNS` alone.

    Raises:
        InputError: A required column is missing (field: the column).
    """
    for column in OBSERVABLE_COLUMNS:
        if column not in manifest.columns and column not in _OPTIONAL:
            raise InputError("manifest", column, "column missing: the rubric labeler reads it")
    observable = manifest[[c for c in OBSERVABLE_COLUMNS if c in manifest.columns]]
    scored = score_manifest(observable, rubric)
    return {
        str(t): _Scored(float(s), bool(d))
        for t, s, d in zip(
            scored["trajectory_id"], scored["quality_score"], scored["disqualified"], strict=True
        )
    }

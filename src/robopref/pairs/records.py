"""Records a pair selector produces and the store persists: pairs, assignments, batches."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from robopref.schemas import ASSIGNMENT_COLUMNS, PAIR_COLUMNS
from robopref.types import BatchKind, Choice, PairKind, Stratum

__all__ = [
    "ASSIGNMENT_COLUMNS",
    "PAIR_COLUMNS",
    "AssignmentSpec",
    "PairBatch",
    "PairSpec",
    "RankingSetSpec",
]


@dataclass(frozen=True, kw_only=True)
class PairSpec:
    """One pair to compare.

    Attributes:
        pair_id: Unique id, stable for a given seed.
        trajectory_a_id: Trajectory A (preference 1.0 means A preferred).
        trajectory_b_id: Trajectory B, never equal to A.
        task: The shared instruction (pairs compare one task by default).
        kind: Regular, gold, duplicate or calibration.
        stratum: Quartile distance of A and B (same / adjacent / distant).
        quartile_a: Quartile of A (1 worst … 4 best).
        quartile_b: Quartile of B.
        expected: The answer a careful annotator gives (gold and calibration pairs only);
            kept server-side, never shown to annotators.
        duplicate_of: For a reversed duplicate, the pair it repeats (A and B swapped).
        rationale: Expert reasoning of a calibration pair, in terms of "the better clip"
            and "the other clip" (sides are randomised); shown to an annotator only after
            they answered the pair. Not a column of `PAIR_COLUMNS`.
    """

    pair_id: str
    trajectory_a_id: str
    trajectory_b_id: str
    task: str
    kind: PairKind
    stratum: Stratum
    quartile_a: int
    quartile_b: int
    expected: Choice | None = None
    duplicate_of: str | None = None
    rationale: str | None = None

    def __post_init__(self) -> None:
        if self.trajectory_a_id == self.trajectory_b_id:
            raise ValueError(f"pair {self.pair_id}: trajectory_a_id equals trajectory_b_id")
        if (self.kind == PairKind.DUPLICATE) != (self.duplicate_of is not None):
            raise ValueError(f"pair {self.pair_id}: duplicate_of is set iff kind is duplicate")

    def as_row(self, batch_id: str) -> dict[str, Any]:
        """The pair as one row of `PAIR_COLUMNS` (the pairs file and the store's pairs table)."""
        return {
            "pair_id": self.pair_id,
            "batch_id": batch_id,
            "trajectory_a_id": self.trajectory_a_id,
            "trajectory_b_id": self.trajectory_b_id,
            "task": self.task,
            "kind": self.kind.value,
            "stratum": self.stratum.value,
            "quartile_a": self.quartile_a,
            "quartile_b": self.quartile_b,
            "expected_preference": None if self.expected is None else self.expected.value,
            "duplicate_of": self.duplicate_of,
        }


@dataclass(frozen=True, kw_only=True)
class AssignmentSpec:
    """One annotator's copy of a pair, with the side each trajectory is shown on."""

    pair_id: str
    annotator_id: str
    left_trajectory_id: str


@dataclass(frozen=True, kw_only=True)
class RankingSetSpec:
    """5–10 trajectories of one instruction to be ranked best → worst."""

    ranking_set_id: str
    task: str
    trajectory_ids: tuple[str, ...]
    annotator_ids: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class PairBatch:
    """A batch of pairs and who sees which, ready for the store.

    Attributes:
        rubric: The annotation page asks the rubric sub-questions for this batch's pairs.
    """

    batch_id: str
    kind: BatchKind
    pairs: tuple[PairSpec, ...]
    assignments: tuple[AssignmentSpec, ...]
    ranking_sets: tuple[RankingSetSpec, ...] = ()
    rubric: bool = False

    def pairs_frame(self) -> pd.DataFrame:
        """The pairs as a frame with `PAIR_COLUMNS`."""
        rows = [p.as_row(self.batch_id) for p in self.pairs]
        return pd.DataFrame(rows, columns=list(PAIR_COLUMNS))

    def assignments_frame(self) -> pd.DataFrame:
        """The assignments as a frame with `ASSIGNMENT_COLUMNS`."""
        rows = [(a.pair_id, a.annotator_id, a.left_trajectory_id) for a in self.assignments]
        return pd.DataFrame(rows, columns=list(ASSIGNMENT_COLUMNS))

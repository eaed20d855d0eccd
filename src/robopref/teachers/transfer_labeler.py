"""The transfer labeler: a reward model trained elsewhere judges a new task's pairs (seed 001).

Any `robopref.scoring.Scorer` will do — a reward model trained on other tasks or other
data, or a table of rewards. It answers from the scorer's `prefer` (P(A ≻ B)), with a
confidence that grows with |P − 0.5|, and abstains in a dead zone around 0.5. The teachers
stage sits below `reward`, so the caller loads the model (`robopref.reward.load`) and
passes it in, with the digest of its weights file for the provenance.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass
from typing import Generic, TypeVar

from robopref.errors import InputError
from robopref.scoring import Scorer
from robopref.teachers.labeler import (
    Answer,
    PairView,
    Provenance,
    TrajectorySource,
    confidence_from_p,
)
from robopref.types import Choice

T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class TransferLabelerConfig:
    """When the transfer labeler answers."""

    dead_zone: float = 0.05
    """Abstain when |P(A ≻ B) − 0.5| is below this (the model cannot tell)."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.dead_zone < 0.5:
            raise ValueError(f"dead_zone must be in [0, 0.5), got {self.dead_zone}")


class TransferLabeler(Generic[T]):
    """An AI labeler that answers with another model's Bradley–Terry preference.

    Args:
        scorer: The model (`score`/`prefer` over what `trajectories` holds).
        trajectories: Where the pair's trajectories are read by id (the pool).
        annotator_id: The store annotator whose assignments it answers.
        version: The model's version (`^[a-z0-9][a-z0-9._+-]{0,19}$`), e.g. its run name.
        weights_digest: sha256 hex of the model's weights file (None without one).
        config: The dead zone.

    Raises:
        ValueError: A version or digest `Provenance` refuses.
    """

    def __init__(
        self,
        scorer: Scorer[T],
        trajectories: TrajectorySource[T],
        *,
        annotator_id: str = "ai-transfer",
        version: str = "1",
        weights_digest: str | None = None,
        config: TransferLabelerConfig | None = None,
    ) -> None:
        self.scorer = scorer
        self.trajectories = trajectories
        self.config = config or TransferLabelerConfig()
        self.annotator_id = annotator_id
        """The store annotator it answers as."""
        self.provenance = Provenance(
            labeler="transfer", version=version, is_human=False, weights_digest=weights_digest
        )
        """`ai:transfer/<version>[@<digest12>]`."""

    def check_trajectories(self, trajectory_ids: Collection[str]) -> None:
        """Refuse trajectories it cannot read.

        Raises:
            InputError: Field `trajectory_id`, naming up to five of them.
        """
        missing = sorted(t for t in set(trajectory_ids) if t not in self.trajectories)
        if missing:
            raise InputError("transfer labeler", "trajectory_id", f"not found: {missing[:5]}")

    def label(self, pair: PairView, *, seed: int) -> Answer | None:
        """The model's answer (deterministic; `seed` is unused), None inside the dead zone."""
        del seed
        start = time.perf_counter()
        a = self.trajectories[pair.trajectory_a_id]
        b = self.trajectories[pair.trajectory_b_id]
        p_a = float(self.scorer.prefer([a], [b])[0])
        if abs(p_a - 0.5) < self.config.dead_zone:
            return None
        choice = Choice.EQUAL if p_a == 0.5 else Choice.A if p_a > 0.5 else Choice.B
        elapsed_ms = max(1, round(1000 * (time.perf_counter() - start)))
        return Answer(choice, confidence_from_p(p_a), elapsed_ms, p_a=p_a)

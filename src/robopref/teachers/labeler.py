"""The Labeler protocol: one pair view in, one answer (or an abstention) out, with provenance.

Simulated annotators (the benchmark's stand-in people) and AI labelers answer the same
assignments through `robopref.teachers.labeling.label_batch`. A labeler sees only what an
annotator may see (`PairView`: the pair's trajectories, the side each is shown on, the
pair's kind and instruction), never ground truth, quality tiers or trajectory sources; a
labeler that needs frames or states reads them by id from the pool it was built with, and
one that plays a simulated person holds its own ground truth.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Protocol, TypeVar, runtime_checkable

from robopref.types import AI_PREFIX, Choice, PairKind, is_ai_label

__all__ = [
    "AI_PREFIX",
    "Answer",
    "Labeler",
    "PairView",
    "Provenance",
    "TrajectorySource",
    "confidence_from_p",
    "is_ai_label",
]

T_co = TypeVar("T_co", covariant=True)

_NAME = re.compile(r"^[a-z0-9][a-z0-9._+-]{0,19}$")
"""A labeler name or version: short, so `interface_version` fits the store's 64 characters."""
_DIGEST = re.compile(r"^[0-9a-f]{12,128}$")


@dataclass(frozen=True, kw_only=True)
class PairView:
    """What an annotator (person, simulated person or AI labeler) sees of an assignment."""

    pair_id: str
    trajectory_a_id: str
    """The pair's A: answers are about A and B, whatever side each is shown on."""
    trajectory_b_id: str
    left_trajectory_id: str
    """The trajectory shown on the left (presentation order)."""
    kind: PairKind = PairKind.REGULAR
    task: str = ""
    """The instruction both trajectories follow."""

    def __post_init__(self) -> None:
        if self.left_trajectory_id not in (self.trajectory_a_id, self.trajectory_b_id):
            raise ValueError(f"left_trajectory_id {self.left_trajectory_id!r} is neither A nor B")

    @property
    def right_trajectory_id(self) -> str:
        """The trajectory shown on the right."""
        a, b = self.trajectory_a_id, self.trajectory_b_id
        return b if self.left_trajectory_id == a else a


@dataclass(frozen=True)
class Answer:
    """One judgement, ready to submit."""

    preference: Choice
    confidence: int
    """1–5."""
    response_time_ms: int
    """How long the answer took (simulated for simulated people; measured for AI labelers)."""
    p_a: float | None = None
    """P(A ≻ B) as the labeler holds it (AI labelers, for noise routing); None if it has none."""


def confidence_from_p(p_a: float) -> int:
    """An AI labeler's 1–5 confidence from its P(A ≻ B): 1 at a coin flip, 5 when sure.

    >>> [confidence_from_p(p) for p in (0.5, 0.6, 0.75, 0.1, 1.0)]
    [1, 2, 3, 4, 5]
    """
    return int(min(5, max(1, 1 + round(8.0 * abs(float(p_a) - 0.5)))))


@dataclass(frozen=True, kw_only=True)
class Provenance:
    """Who gave a label: stored with every annotation a labeler submits.

    Until the store has columns of its own for it, all of it goes into the annotation's
    `interface_version` (`interface_version` below), which QA and exports already carry.
    """

    labeler: str
    """Lowercase name of ≤ 20 characters: `simulated`, `rubric`, `transfer`, `vlm`, ..."""
    version: str
    """The labeler's version (its code or rubric), e.g. `1`."""
    is_human: bool
    """Counted as a human in QA: True for people and simulated people (the benchmark's
    stand-in humans), False for every AI labeler."""
    weights_digest: str | None = None
    """sha256 hex of the weights file the labeler loaded; None without weights."""

    def __post_init__(self) -> None:
        for name in ("labeler", "version"):
            if not _NAME.match(getattr(self, name)):
                raise ValueError(f"{name} must match {_NAME.pattern}, got {getattr(self, name)!r}")
        if self.weights_digest is not None and not _DIGEST.match(self.weights_digest):
            raise ValueError(f"weights_digest must be lowercase hex, got {self.weights_digest!r}")

    @property
    def interface_version(self) -> str:
        """What the store records as the annotation's `interface_version`.

        `simulated-1` for simulated people (as before labelers existed); `ai:rubric/1`, or
        `ai:vlm/2@<first 12 hex of the digest>` with weights, for AI labelers.

        >>> Provenance(labeler="rubric", version="1", is_human=False).interface_version
        'ai:rubric/1'
        >>> Provenance(labeler="vlm", version="2", is_human=False, weights_digest="ab" * 32
        ...            ).interface_version
        'ai:vlm/2@abababababab'
        """
        if self.is_human:
            return f"{self.labeler}-{self.version}"
        digest = "" if self.weights_digest is None else f"@{self.weights_digest[:12]}"
        return f"{AI_PREFIX}{self.labeler}/{self.version}{digest}"

    @property
    def key_prefix(self) -> str:
        """Start of the idempotency keys: `sim` (simulated people), `ai-<labeler>`."""
        return "sim" if self.is_human else f"ai-{self.labeler}"


@runtime_checkable
class Labeler(Protocol):
    """Anything that answers assignments: a simulated person or an AI labeler."""

    @property
    def annotator_id(self) -> str:
        """The store annotator whose assignments it answers."""
        ...

    @property
    def provenance(self) -> Provenance:
        """Who it is, stored with each of its answers."""
        ...

    def check_trajectories(self, trajectory_ids: Collection[str]) -> None:
        """Refuse, before anything is stored, a batch with trajectories it cannot judge.

        Raises:
            InputError: Naming the field (`trajectory_id`) and some of the ids.
        """
        ...

    def label(self, pair: PairView, *, seed: int) -> Answer | None:
        """Its answer to one pair (None: it abstains), deterministic given `seed`."""
        ...


class TrajectorySource(Protocol[T_co]):
    """Trajectories by id, for labelers that read them: a `robopref.pool.Pool`, or a dict."""

    def __getitem__(self, trajectory_id: str, /) -> T_co:
        """The trajectory with this id."""
        ...

    def __contains__(self, trajectory_id: object, /) -> bool:
        """Whether it holds the id."""
        ...

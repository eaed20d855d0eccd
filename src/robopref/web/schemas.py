"""The annotator API's request and response bodies (pydantic), built on the store's enums."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

from robopref.campaign.live_certification import NextStep, Phase
from robopref.schemas import MAX_TEXT_CHARS

RubricValue = StrictBool | StrictInt | StrictFloat | StrictStr | None


class Side(str, Enum):
    """What the annotator clicked, about the screen, not the pair's A/B."""

    LEFT = "left"
    RIGHT = "right"
    EQUAL = "equal"


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignIn(_Body):
    """POST /api/session."""

    token: str = Field(min_length=1, max_length=256)
    """The annotator's login token."""


class SessionPublic(_Body):
    """Who is signed in, and the CSRF token to send as `X-CSRF-Token` on every write."""

    annotator_id: str
    role: str
    csrf_token: str
    expires_in_s: int


class ClipPublic(_Body):
    """One side of a comparison, by opaque display id."""

    display_id: str
    clip_url: str | None
    """`/clips/<display id>.mp4`, or None when the clip is not rendered yet."""


class AssignmentPublic(_Body):
    """GET /api/next: the pair to judge; nothing that reveals ids, sources, tiers or answers."""

    assignment_id: str
    """Opaque id to send back with submit or skip."""
    task: str
    left: ClipPublic
    right: ClipPublic
    remaining: int
    """Assignments left in the queue, this one included."""
    rubric: bool = False
    """Ask the rubric sub-questions (`RUBRIC_KEYS`) for this pair."""


class ProgressPublic(_Body):
    """Pairs answered or skipped, of those assigned, in the annotator's current phase."""

    done: int
    assigned: int


class NextPublic(_Body):
    """GET /api/next: the phase, the next pair (null when none) and what to prefetch."""

    phase: Phase
    progress: ProgressPublic
    assignment: AssignmentPublic | None
    upcoming: list[str] = []
    """Clip URLs of the next pairs, for prefetching."""
    rankings_waiting: int = 0
    """Ranking sets to do (GET /api/ranking/next); production only."""
    feedback_available: bool = False
    """A calibration attempt was scored: GET /api/calibration/feedback shows it."""


class AssignmentRef(_Body):
    """POST /api/skip."""

    assignment_id: str = Field(min_length=1, max_length=64)


class SubmitBody(AssignmentRef):
    """POST /api/submit."""

    choice: Side
    confidence: Annotated[int, Field(ge=1, le=5, strict=True)]
    response_time_ms: Annotated[int, Field(ge=0, strict=True)]
    idempotency_key: str = Field(min_length=1, max_length=128)
    reason: str | None = Field(default=None, max_length=MAX_TEXT_CHARS)
    rubric: dict[str, RubricValue] | None = None
    interface_version: str | None = Field(default=None, max_length=64)


class SubmitPublic(_Body):
    """What a submit acknowledges; `created` is False for a retry of the same key."""

    created: bool
    calibration_complete: bool = False
    """This answer finished a calibration set: the page opens /calibration next."""


class FeedbackItemPublic(_Body):
    """One answered calibration pair, sides as the annotator saw them."""

    task: str
    left: ClipPublic
    right: ClipPublic
    your_choice: Side
    expert_choice: Side | None
    agreed: bool
    rationale: str | None


class FeedbackPublic(_Body):
    """GET /api/calibration/feedback: the latest attempt."""

    kappa: float
    threshold: float
    passed: bool
    attempt: int
    next: NextStep
    items: list[FeedbackItemPublic]


class RankingFlag(str, Enum):
    """A flag an annotator may set on a clip of a ranking set.

    The same values as `robopref.store.RANKING_FLAGS` (tests/web/test_ranking.py checks).
    """

    GRIPPER_STATE_WRONG = "gripper_state_wrong"
    LATENT_FAILURE = "latent_failure"


class RankingPublic(_Body):
    """A ranking set to order best → worst; clips in presentation order."""

    ranking_id: str
    """Opaque id to send back with the ranking."""
    task: str
    clips: list[ClipPublic]
    flags: list[RankingFlag]
    """Flags that may be set per clip."""
    remaining: int
    """Ranking sets left, this one included."""


class RankingNextPublic(_Body):
    """GET /api/ranking/next (`ranking` is null when none is waiting)."""

    ranking: RankingPublic | None


class RankingBody(_Body):
    """POST /api/ranking/submit."""

    ranking_id: str = Field(min_length=1, max_length=64)
    order: list[str] = Field(min_length=2, max_length=64)
    """Display ids of the set's clips, best first, each once."""
    flags: dict[str, list[RankingFlag]] = {}
    """Display id → flags on that clip (clips without flags may be left out)."""
    response_time_ms: Annotated[int, Field(ge=0, strict=True)]
    idempotency_key: str = Field(min_length=1, max_length=128)


class CreatedPublic(_Body):
    """What a ranking submit acknowledges; False for a retry of the same key."""

    created: bool


class Ok(_Body):
    """A write that returns nothing else."""

    ok: bool = True

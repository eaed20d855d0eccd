"""The annotator API's request and response bodies (pydantic), built on the store's enums."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

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


class QueueDone(_Body):
    """GET /api/next when the queue is empty."""

    assignment: AssignmentPublic | None


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


class Ok(_Body):
    """A write that returns nothing else."""

    ok: bool = True

"""The admin API's request and response bodies (pydantic)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AdminBatchKind(str, Enum):
    """Batches the dashboard creates (active selection plugs in here later)."""

    STRATIFIED = "stratified"
    CALIBRATION = "calibration"
    RANKING = "ranking"


class AccountRole(str, Enum):
    """Role of a new account."""

    ANNOTATOR = "annotator"
    ADMIN = "admin"


class AnnotatorCreate(_Body):
    """POST /api/admin/annotators."""

    annotator_id: str = Field(min_length=1, max_length=128)
    role: AccountRole | None = None
    """Role of a new account (default annotator); an existing account keeps its role."""


class TokenPublic(_Body):
    """A login token, shown once."""

    annotator_id: str
    token: str
    created: bool
    """True for a new account, False when an existing one got a fresh token."""
    calibration_batch_id: str | None = None
    """The calibration set assigned to a new annotator, if any."""


class ExclusionBody(_Body):
    """POST /api/admin/annotators/{id}/exclusion."""

    excluded: StrictBool


class ExclusionPublic(_Body):
    """An annotator's exclusion after the change."""

    annotator_id: str
    excluded: bool


class BatchCreate(_Body):
    """POST /api/admin/batches."""

    kind: AdminBatchKind
    size: Annotated[int, Field(ge=1, le=5000, strict=True)]
    """Pairs (stratified, calibration) or ranking sets (ranking)."""
    annotator_ids: list[Annotated[str, Field(min_length=1, max_length=128)]] | None = None
    """Who annotates; default: certified annotators not excluded (calibration: nobody yet,
    the set waits for new annotators and retests)."""
    rubric: StrictBool = False
    """Ask the rubric sub-questions on this batch's pairs."""
    seed: Annotated[int, Field(ge=0, strict=True)] = 0
    annotators_per_pair: Annotated[int, Field(ge=2, le=20, strict=True)] | None = None
    """Annotators per pair or ranking set; default min(3, annotators)."""
    clips_per_set: Annotated[int, Field(ge=5, le=10, strict=True)] = 8
    """Clips in each ranking set."""


class BatchCreated(_Body):
    """The stored batch."""

    batch_id: str
    kind: str
    pairs: int
    """Pairs stored (ranking sets for a ranking batch)."""
    assignments: int


class BatchStatusPublic(_Body):
    """A batch's status after a change."""

    batch_id: str
    status: str


class BatchRow(_Body):
    """One batch on the dashboard."""

    batch_id: str
    kind: str
    status: str
    rubric: bool
    pairs: int
    """Pairs, or ranking sets for a ranking batch."""
    assigned: int
    done: int
    skipped: int
    created_at: datetime | None


class AnnotatorRow(_Body):
    """One annotator on the dashboard."""

    annotator_id: str
    role: str
    certified: bool
    excluded: bool
    has_token: bool
    phase: str
    """`calibration`, `production`, `waiting` (not certified, no calibration left), `done`
    (certified, queue empty) or `admin` (an admin with no work assigned)."""
    done: int
    assigned: int
    skipped: int
    rankings_done: int
    rankings_assigned: int
    per_hour: float | None
    """Comparisons per hour of active time (target 40–60)."""
    median_response_ms: int | None
    median_response_s: float | None
    last_active: datetime | None
    flags: list[str]


class FlagRow(_Body):
    """A QA flag raised on an annotator, with what it rests on, in words."""

    annotator_id: str
    flag: str
    detail: str


class QAPublic(_Body):
    """Live quality control over the store's production answers (None: nothing to measure)."""

    annotations: int
    pairs: int
    preferences: int
    """Pairs the export would label now."""
    alpha: float | None
    alpha_without_excluded: float | None
    """Alpha of the answers the export counts (excluded annotators left out)."""
    alpha_target: float
    gold_accuracy: float | None
    fast_fraction: float | None
    fast_response_s: float
    self_consistency: float | None
    position_bias: float | None
    """|share of left choices − 0.5| over all side choices (0 = none)."""
    left_fraction: float | None
    excluded: list[str]
    """Left out of the export and of `alpha_without_excluded`: flagged and lead-excluded."""
    excluded_by_lead: list[str]
    flagged: list[str]
    flags: list[FlagRow]


class DisagreementRow(_Body):
    """Disagreement among the annotators of one task and quartile pairing."""

    task: str
    quartiles: str
    pairs: int
    disagreement: float


class ReasonPublic(_Body):
    """A recent free-text reason (verbatim: the page must escape it)."""

    pair_id: str
    task: str
    annotator_id: str
    reason: str
    created_at: datetime | None


class Overview(_Body):
    """GET /api/admin/overview."""

    generated_at: datetime
    batches: list[BatchRow]
    annotators: list[AnnotatorRow]
    qa: QAPublic
    disagreement: list[DisagreementRow]
    reasons: list[ReasonPublic]
    throughput_target_per_hour: tuple[int, int]
    plots: list[str]
    """URLs of the dashboard's PNG plots."""


class AnswerPublic(_Body):
    """One answer to a pair, for the lead."""

    annotator_id: str
    preference: str
    confidence: int
    reason: str | None
    response_time_ms: int
    left_trajectory_id: str
    created_at: datetime | None


class PairPublic(_Body):
    """GET /api/admin/pairs/{pair_id}."""

    pair_id: str
    batch_id: str
    task: str
    kind: str
    stratum: str
    quartile_a: int
    quartile_b: int
    trajectory_a_id: str
    trajectory_b_id: str
    expected_preference: str | None
    annotations: list[AnswerPublic]

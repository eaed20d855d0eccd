"""Records that cross the store's boundary: submissions in, results and queue items out."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from robopref.errors import InputError
from robopref.schemas import MAX_TEXT_CHARS
from robopref.store.text import check_id, check_json_text, check_text, shown
from robopref.types import BatchKind, Choice

RUBRIC_KEYS = ("success", "collisions", "efficiency", "safety", "naturalness")
"""Sub-questions an annotator may answer beside the overall preference (seed 000)."""

RANKING_FLAGS = ("gripper_state_wrong", "latent_failure")
"""Flags an annotator may set on a clip of a ranking set (beside its rank)."""

MAX_TEXT = MAX_TEXT_CHARS
"""Longest free-text reason stored, in characters."""


@dataclass(frozen=True, kw_only=True)
class Submission:
    """One annotator's answer to one assigned pair, as a client sends it.

    `validate()` raises `InputError` naming the field; the store calls it before writing.
    """

    annotator_id: str
    """Who answered."""
    pair_id: str
    """The pair answered; must be assigned to `annotator_id`."""
    preference: Choice | str
    """`A`, `B` or `equal`, about the pair's A/B (not the screen side)."""
    confidence: int
    """1 (guess) … 5 (certain)."""
    response_time_ms: int
    """Milliseconds from the pair being shown to the answer, ≥ 0."""
    left_trajectory_id: str
    """The trajectory shown on the left (presentation order)."""
    idempotency_key: str
    """Client-chosen key, unique per annotator: a retry with the same key is stored once."""
    free_text_reason: str | None = None
    """Optional reason in the annotator's words."""
    rubric_answers: Mapping[str, Any] | None = None
    """Optional sub-answers keyed by `RUBRIC_KEYS` (JSON values)."""
    interface_version: str | None = None
    """Version of the page or client that collected the answer."""
    shown_at: datetime | None = None
    """When the pair was shown (timezone-aware); the assignment's time if omitted."""

    def validate(self) -> Choice:
        """Check every field; returns the preference as a `Choice`.

        Raises:
            InputError: A field is missing, out of range or of the wrong type.
        """
        where = f"annotation {shown(self.annotator_id)}/{shown(self.pair_id)}"
        for name in ("annotator_id", "pair_id", "left_trajectory_id", "idempotency_key"):
            check_id(getattr(self, name), where=where, field=name)
        try:
            choice = Choice(self.preference)
        except ValueError:
            allowed = ", ".join(c.value for c in Choice)
            message = f"{shown(self.preference)} is not one of {allowed}"
            raise InputError(where, "preference", message) from None
        _check_int(where, "confidence", self.confidence, low=1, high=5)
        _check_int(where, "response_time_ms", self.response_time_ms, low=0, high=None)
        check_text(self.free_text_reason, where=where, field="free_text_reason")
        if self.interface_version is not None:
            check_id(self.interface_version, where=where, field="interface_version", max_chars=64)
        _check_rubric(where, self.rubric_answers)
        if self.shown_at is not None and not isinstance(self.shown_at, datetime):
            raise InputError(where, "shown_at", f"must be a datetime, got {shown(self.shown_at)}")
        if self.shown_at is not None and self.shown_at.tzinfo is None:
            raise InputError(where, "shown_at", "must be timezone-aware")
        return choice


def _check_int(where: str, name: str, value: object, *, low: int, high: int | None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(where, name, f"must be an integer, got {shown(value)}")
    if value < low or (high is not None and value > high):
        bounds = f"{low}–{high}" if high is not None else f"≥ {low}"
        raise InputError(where, name, f"{value} is outside {bounds}")


def _check_rubric(where: str, answers: Mapping[str, Any] | None) -> None:
    if answers is None:
        return
    if not isinstance(answers, Mapping):
        raise InputError(where, "rubric_answers", "must be a mapping")
    unknown = sorted(set(answers) - set(RUBRIC_KEYS))
    if unknown:
        raise InputError(where, "rubric_answers", f"unknown keys {unknown}; allowed {RUBRIC_KEYS}")
    for key, value in answers.items():
        ok = value is None or isinstance(value, str | bool | int)
        ok = ok or (isinstance(value, float) and math.isfinite(value))
        if not ok:
            raise InputError(where, "rubric_answers", f"{key}: {value!r} is not a JSON scalar")
        check_json_text(value, where=where, field="rubric_answers")


@dataclass(frozen=True)
class SubmitResult:
    """What the store acknowledges: the stored id and whether this call created it."""

    annotation_id: str
    """Id of the stored annotation (or ranking), the original one for a retry."""
    created: bool
    """False when the idempotency key had been seen: nothing new was written."""


@dataclass(frozen=True, kw_only=True)
class QueueItem:
    """The next pair to show an annotator: what the page needs and nothing it must hide.

    Gold answers, pair kinds and trajectory sources are deliberately absent.
    """

    pair_id: str
    """The pair to answer."""
    batch_id: str
    """The batch it belongs to."""
    task: str
    """The instruction both trajectories attempt."""
    left_trajectory_id: str
    """Shown on the left."""
    right_trajectory_id: str
    """Shown on the right."""
    left_clip_path: str | None
    """Review clip of the left trajectory (relative to the pool), if rendered."""
    right_clip_path: str | None
    """Review clip of the right trajectory, if rendered."""
    shown_at: datetime | None
    """When it was first shown."""
    remaining: int
    """Assignments left in this annotator's queue, this one included."""
    rubric: bool = False
    """The batch asks the rubric sub-questions (`RUBRIC_KEYS`) beside the preference."""
    trajectory_a_id: str | None = None
    """The pair's A (left or right), for the server's own use (never sent to the page)."""
    batch_kind: BatchKind | None = None
    """The batch's kind, for the server's own use (a submit scores a calibration set)."""


@dataclass(frozen=True, kw_only=True)
class RankingSubmission:
    """An annotator's best → worst ordering of a ranking set."""

    annotator_id: str
    """Who ranked."""
    ranking_set_id: str
    """The set ranked; must be assigned to `annotator_id`."""
    trajectory_ids: tuple[str, ...]
    """Every trajectory of the set, best first."""
    response_time_ms: int
    """Milliseconds spent, ≥ 0."""
    idempotency_key: str
    """Client-chosen key, unique per annotator."""
    flags: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Trajectory id → the `RANKING_FLAGS` set on that clip (clips without flags left out)."""

    def validated_flags(self) -> dict[str, list[str]]:
        """The flags, checked: keys among `trajectory_ids`, values lists of `RANKING_FLAGS`.

        Returns:
            Trajectory id → its flags in `RANKING_FLAGS` order, without repeats; clips with
            an empty list are left out.

        Raises:
            InputError: Naming the field `flags`.
        """
        where = f"ranking {shown(self.annotator_id)}/{shown(self.ranking_set_id)}"
        if not isinstance(self.flags, Mapping):
            raise InputError(where, "flags", "must map trajectory ids to lists of flags")
        members = set(self.trajectory_ids)
        out: dict[str, list[str]] = {}
        for trajectory_id, flags in self.flags.items():
            if trajectory_id not in members:
                raise InputError(where, "flags", f"{shown(trajectory_id)} is not in the ranking")
            if isinstance(flags, str) or not isinstance(flags, list | tuple):
                raise InputError(where, "flags", f"{shown(trajectory_id)}: must be a list")
            unknown = [f for f in flags if f not in RANKING_FLAGS]
            if unknown:
                raise InputError(where, "flags", f"unknown flag {shown(unknown[0])}; "
                                 f"allowed {', '.join(RANKING_FLAGS)}")
            if flags:
                out[trajectory_id] = [f for f in RANKING_FLAGS if f in flags]
        return out


@dataclass(frozen=True, kw_only=True)
class CertificationRecord:
    """One certification attempt."""

    annotator_id: str
    """Who took it."""
    calibration_batch_id: str
    """The calibration batch the kappa was measured on."""
    kappa: float
    """Cohen's kappa against the expert answers."""
    passed: bool
    """Whether it met the threshold."""
    at: datetime
    """When it was recorded (UTC)."""


class Progress(NamedTuple):
    """How far an annotator is through some of their assignments."""

    done: int
    """Answered or skipped."""
    assigned: int
    """All of them."""


@dataclass(frozen=True, kw_only=True)
class RankingQueueItem:
    """The next ranking set to show an annotator (members in presentation order)."""

    ranking_set_id: str
    """The set to rank."""
    batch_id: str
    """Its batch."""
    task: str
    """The instruction every member attempts."""
    trajectory_ids: tuple[str, ...]
    """The members, in the order they are presented."""
    clip_paths: tuple[str | None, ...]
    """Review clip of each member (relative to the pool), None where not rendered."""
    remaining: int
    """Ranking sets left for this annotator, this one included."""


@dataclass(frozen=True, kw_only=True)
class CalibrationAnswer:
    """One answered calibration pair of an attempt, with the expert's answer and reasoning."""

    pair_id: str
    """The pair."""
    task: str
    """Its instruction."""
    trajectory_a_id: str
    """The pair's A."""
    trajectory_b_id: str
    """The pair's B."""
    left_trajectory_id: str
    """Shown on the left to this annotator."""
    left_clip_path: str | None
    """Clip of the left trajectory."""
    right_clip_path: str | None
    """Clip of the right trajectory."""
    preference: Choice
    """The annotator's answer (A/B/equal about the pair)."""
    expected: Choice | None
    """The expert answer."""
    rationale: str | None
    """The expert's reasoning."""

    @property
    def right_trajectory_id(self) -> str:
        """Shown on the right."""
        a, b = self.trajectory_a_id, self.trajectory_b_id
        return b if self.left_trajectory_id == a else a

"""Shared vocabularies used across stages, as `str` enums."""

from __future__ import annotations

import re
from enum import Enum

MetadataValue = str | int | float | bool | None
"""A value of a trajectory's (or a controller's) metadata: JSON scalars only."""


class Source(str, Enum):
    """Quality tier a trajectory came from (seed 004); policy checkpoints add a number."""

    EXPERT = "expert"
    NOVICE = "novice"
    POLICY_CHECKPOINT = "policy_checkpoint"
    SCRIPTED = "scripted"
    RANDOM = "random"


_CHECKPOINT = re.compile(r"^policy_checkpoint_(\d+)$")


def checkpoint_source(index: int) -> str:
    """Source label of a policy checkpoint.

    >>> checkpoint_source(3)
    'policy_checkpoint_3'
    """
    return f"{Source.POLICY_CHECKPOINT.value}_{index}"


def checkpoint_index(source: str) -> int | None:
    """N of a `policy_checkpoint_N` source label, None for any other source.

    >>> checkpoint_index("policy_checkpoint_12"), checkpoint_index("expert")
    (12, None)
    """
    match = _CHECKPOINT.match(source)
    return int(match.group(1)) if match else None


def source_tier(source: str) -> str:
    """The tier of a source label: `policy_checkpoint_N` → `policy_checkpoint`, else unchanged.

    >>> source_tier("policy_checkpoint_12")
    'policy_checkpoint'
    >>> source_tier("expert")
    'expert'
    """
    return Source.POLICY_CHECKPOINT.value if _CHECKPOINT.match(source) else source


class Choice(str, Enum):
    """An annotator's answer to a pairwise comparison."""

    A = "A"
    B = "B"
    EQUAL = "equal"


class Severity(str, Enum):
    """Severity of a collision event (seed 000: a major collision ranks lowest)."""

    MINOR = "minor"
    MAJOR = "major"


class PairKind(str, Enum):
    """Role of a pair in a batch (seed 004)."""

    REGULAR = "regular"
    GOLD = "gold"
    """Distant quartiles: an attention check whose expected answer comes from quality_score."""
    DUPLICATE = "duplicate"
    """A repeat of another pair shown to the same annotator in reversed order."""
    CALIBRATION = "calibration"
    """A pair with an expert answer, used to certify annotators."""


class Stratum(str, Enum):
    """How far apart the quartiles of a pair's two trajectories are."""

    SAME = "same"
    ADJACENT = "adjacent"
    DISTANT = "distant"


class BatchKind(str, Enum):
    """What a batch of pairs is for."""

    CALIBRATION = "calibration"
    PRODUCTION = "production"
    ACTIVE = "active"
    RANKING = "ranking"


class TruthColumn(str, Enum):
    """The manifest column simulated annotators answer from (benchmark ground truth)."""

    QUALITY_SCORE = "quality_score"
    """The rubric score (seed 000), rescaled to [0, 1] over the whole pool."""
    TRUE_RETURN = "true_return"
    """The simulator's dense return, rescaled to [0, 1] within each task (tasks of different
    reward scales then compare); null in imported pools and pools older than the column."""


AI_PREFIX = "ai:"
"""How an AI labeler's `interface_version` starts (`ai:<labeler>/<version>[@digest]`)."""


def is_ai_label(interface_version: str | None) -> bool:
    """Whether an annotation's `interface_version` says an AI labeler gave it.

    Quality control leaves such annotations out (an AI labeler is never counted as a
    human); they reach training through their own preferences table.

    >>> is_ai_label("ai:rubric/1"), is_ai_label("simulated-1"), is_ai_label(None)
    (True, False, False)
    """
    return isinstance(interface_version, str) and interface_version.startswith(AI_PREFIX)

"""The public table schemas: preferences, raw annotations, pairs, assignments and rewards.

They live at the base layer because the store writes raw annotations, quality aggregates
them and release packages both; each is defined here once. The Arrow schemas say how files
are written; the `TableSpec`s say what a reader accepts, column by column
(`robopref.tables.read_table_file` checks them), and `id_problem` / `text_problem` what
text is acceptable in a table file and in the store alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

import pyarrow as pa

PREFERENCES_SCHEMA_VERSION = 1

PREFERENCES_SCHEMA = pa.schema(
    [
        pa.field("pair_id", pa.string(), nullable=False),
        pa.field("trajectory_a_id", pa.string(), nullable=False),
        pa.field("trajectory_b_id", pa.string(), nullable=False),
        pa.field("preference", pa.float64(), nullable=False),
        pa.field("confidence_mean", pa.float64(), nullable=False),
        pa.field("num_annotators", pa.int32(), nullable=False),
        pa.field("agreement", pa.float64(), nullable=False),
        pa.field("annotator_ids", pa.list_(pa.string()), nullable=False),
        pa.field("task", pa.string()),
        pa.field("source", pa.string()),
    ]
)
"""`preferences.parquet` / `.jsonl`: one row per pair. preference is 1.0 (A preferred),
0.0 (B preferred) or 0.5 (tie); agreement is the fraction agreeing with the majority.
`source` says where the label came from (`human`, `simulated:<teacher>`, `ai:<labeler>`,
`ranking`)."""

ANNOTATIONS_SCHEMA = pa.schema(
    [
        pa.field("annotation_id", pa.string(), nullable=False),
        pa.field("pair_id", pa.string(), nullable=False),
        pa.field("trajectory_a_id", pa.string(), nullable=False),
        pa.field("trajectory_b_id", pa.string(), nullable=False),
        pa.field("annotator_id", pa.string(), nullable=False),
        pa.field("preference", pa.string(), nullable=False),
        pa.field("confidence", pa.int8(), nullable=False),
        pa.field("response_time_ms", pa.int64(), nullable=False),
        pa.field("free_text_reason", pa.string()),
        pa.field("left_trajectory_id", pa.string(), nullable=False),
        pa.field("batch_id", pa.string()),
        pa.field("rubric_answers", pa.string()),
        pa.field("interface_version", pa.string()),
        pa.field("shown_at", pa.timestamp("us", tz="UTC")),
        pa.field("created_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)
"""Raw annotations, one row per judgement: preference is `A`, `B` or `equal` (about the
pair's A/B, not the screen side); `left_trajectory_id` records the presentation order;
`rubric_answers` is a JSON object of the rubric sub-questions."""

# --- the table files the stages read, column by column ---------------------------------------

MAX_ID_CHARS = 128
"""Longest id or label (pair, trajectory, annotator, batch ids; the store's id columns)."""
MAX_TEXT_CHARS = 4000
"""Longest free text (reasons, instructions) in a table file or the store."""

_ID_FORBIDDEN = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff"
    "\ufff9-\ufffb\ud800-\udfff]"
)
"""In an id: control, line-separator, bidi, zero-width and lone surrogate characters."""
_TEXT_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
"""In free text: NUL (PostgreSQL refuses it), other C0 controls but tab and line breaks,
DEL, and lone surrogates (not UTF-8: neither backend can store them)."""


def id_problem(value: str) -> str | None:
    r"""Why `value` is not an acceptable id (None if it is).

    An id is 1–MAX_ID_CHARS characters without control, bidi or zero-width characters or
    lone surrogates, and without leading or trailing white space.

    >>> [id_problem(v) for v in ("ann-01", "pair 7")]
    [None, None]
    >>> id_problem("a\x00b")
    "contains the character '\\x00' (U+0000)"
    """
    if not value:
        return "is empty"
    if len(value) > MAX_ID_CHARS:
        return f"has {len(value)} characters; at most {MAX_ID_CHARS}"
    found = _ID_FORBIDDEN.search(value)
    if found is not None:
        return _forbidden(found.group())
    if value != value.strip():
        return "has leading or trailing white space"
    return None


def text_problem(value: str, *, max_chars: int = MAX_TEXT_CHARS) -> str | None:
    r"""Why `value` is not acceptable free text (None if it is): see `_TEXT_FORBIDDEN`.

    >>> text_problem("too fast,\nhit the cup"), text_problem("x" * 5000)
    (None, 'has 5000 characters; at most 4000')
    """
    if len(value) > max_chars:
        return f"has {len(value)} characters; at most {max_chars}"
    found = _TEXT_FORBIDDEN.search(value)
    return None if found is None else _forbidden(found.group())


def _forbidden(char: str) -> str:
    return f"contains the character {char!r} (U+{ord(char):04X})"


class Kind(str, Enum):
    """What a column's values are."""

    ID = "id"
    """An id or label (`id_problem`)."""
    TEXT = "text"
    """Free text (`text_problem`)."""
    CHOICE = "choice"
    """One of the column's `allowed` strings."""
    FLOAT = "float"
    """A finite number."""
    INT = "int"
    """A whole number (64-bit)."""
    TIMESTAMP = "timestamp"
    """A point in time: a timestamp, or an ISO 8601 string in JSONL."""
    ID_LIST = "id_list"
    """A list of ids."""


@dataclass(frozen=True)
class Column:
    """One column of a table file and the values it may hold."""

    name: str
    kind: Kind
    nullable: bool = False
    """Whether a value may be missing (null); required columns are the non-nullable ones."""
    low: float | None = None
    """Smallest allowed number (FLOAT, INT)."""
    high: float | None = None
    """Largest allowed number (FLOAT, INT)."""
    allowed: tuple[str, ...] = ()
    """The allowed values (CHOICE)."""
    unique: bool = False
    """No two rows share a value."""


@dataclass(frozen=True)
class TableSpec:
    """A table file's columns; `robopref.tables.read_table_file` checks files against it."""

    name: str
    """What the table holds, named in errors (`preferences`, `annotations`, ...)."""
    columns: tuple[Column, ...]
    unique_together: tuple[str, ...] = ()
    """Columns whose combination is unique (e.g. one answer per pair and annotator)."""
    distinct: tuple[str, str] | None = None
    """Two columns that differ in every row (a pair never compares a trajectory with itself)."""

    @property
    def names(self) -> tuple[str, ...]:
        """Every column name, in order."""
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        """The columns a file must have (the non-nullable ones)."""
        return tuple(c.name for c in self.columns if not c.nullable)


CHOICES = ("A", "B", "equal")
"""Raw answers (`robopref.types.Choice`): about the pair's A/B, not the screen side."""
PAIR_KINDS = ("regular", "gold", "duplicate", "calibration")
"""`robopref.types.PairKind` values."""
STRATA = ("same", "adjacent", "distant")
"""`robopref.types.Stratum` values."""


def _ids(*names: str, nullable: bool = False) -> tuple[Column, ...]:
    return tuple(Column(n, Kind.ID, nullable=nullable) for n in names)


PREFERENCES_TABLE = TableSpec(
    name="preferences",
    columns=(
        Column("pair_id", Kind.ID, unique=True),
        *_ids("trajectory_a_id", "trajectory_b_id"),
        Column("preference", Kind.FLOAT, low=0.0, high=1.0),
        Column("confidence_mean", Kind.FLOAT, low=0.0, high=5.0),
        Column("num_annotators", Kind.INT, low=1),
        Column("agreement", Kind.FLOAT, low=0.0, high=1.0),
        Column("annotator_ids", Kind.ID_LIST),
        Column("task", Kind.TEXT, nullable=True),
        Column("source", Kind.ID, nullable=True),
    ),
    distinct=("trajectory_a_id", "trajectory_b_id"),
)
"""`preferences.parquet` / `.jsonl` (PREFERENCES_SCHEMA's columns)."""

LABELLED_PAIR_COLUMNS = ("pair_id", "trajectory_a_id", "trajectory_b_id", "preference")
"""The columns of a preferences-schema table that say which pair got which label: what
validation requires of held-out pairs (others are kept)."""

ANNOTATIONS_TABLE = TableSpec(
    name="annotations",
    columns=(
        Column("annotation_id", Kind.ID, unique=True),
        *_ids("pair_id", "trajectory_a_id", "trajectory_b_id", "annotator_id"),
        Column("preference", Kind.CHOICE, allowed=CHOICES),
        Column("confidence", Kind.INT, low=1, high=5),
        Column("response_time_ms", Kind.INT, low=0),
        Column("free_text_reason", Kind.TEXT, nullable=True),
        Column("left_trajectory_id", Kind.ID),
        Column("batch_id", Kind.ID, nullable=True),
        Column("rubric_answers", Kind.TEXT, nullable=True),
        Column("interface_version", Kind.ID, nullable=True),
        Column("shown_at", Kind.TIMESTAMP, nullable=True),
        Column("created_at", Kind.TIMESTAMP),
    ),
    unique_together=("pair_id", "annotator_id"),
)
"""Raw annotations (ANNOTATIONS_SCHEMA's columns): one answer per pair and annotator."""

PAIRS_TABLE = TableSpec(
    name="pairs",
    columns=(
        Column("pair_id", Kind.ID, unique=True),
        *_ids("batch_id", "trajectory_a_id", "trajectory_b_id"),
        Column("task", Kind.TEXT),
        Column("kind", Kind.CHOICE, allowed=PAIR_KINDS),
        Column("stratum", Kind.CHOICE, allowed=STRATA),
        Column("quartile_a", Kind.INT, low=1, high=4),
        Column("quartile_b", Kind.INT, low=1, high=4),
        Column("expected_preference", Kind.CHOICE, nullable=True, allowed=CHOICES),
        Column("duplicate_of", Kind.ID, nullable=True),
    ),
    distinct=("trajectory_a_id", "trajectory_b_id"),
)
"""`pairs.parquet` from `robopref pairs` (one row per pair of every batch)."""

PAIR_COLUMNS = PAIRS_TABLE.names
"""Columns of a pairs frame (`PairBatch.pairs_frame`, the store's pairs query)."""

ASSIGNMENTS_TABLE = TableSpec(
    name="assignments",
    columns=(
        *_ids("pair_id", "annotator_id", "left_trajectory_id"),
        Column("batch_id", Kind.ID, nullable=True),
    ),
    unique_together=("pair_id", "annotator_id"),
)
"""`assignments.parquet` from `robopref pairs`: who sees which pair, and on which side."""

ASSIGNMENT_COLUMNS = ASSIGNMENTS_TABLE.names[:3]
"""Columns of an assignments frame (the file adds `batch_id`)."""

REWARDS_TABLE = TableSpec(
    name="rewards",
    columns=(Column("trajectory_id", Kind.ID, unique=True), Column("reward", Kind.FLOAT)),
)
"""Per-trajectory rewards (`rewards.parquet`, written by every validation run)."""

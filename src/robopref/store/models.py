"""The annotation store's tables as SQLAlchemy 2 models: the one source of the database schema.

Alembic autogenerates `store/migrations/versions/` from `Base.metadata`; every string
vocabulary column carries a named CHECK constraint so a bad value cannot reach the disk even
from a client that bypasses `robopref.store.queries`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from robopref.types import BatchKind, Choice, PairKind, Stratum

ID = 128
"""Maximum length of every id column (trajectory, pair, batch, annotator, ranking)."""


class Role(str, Enum):
    """What an account may do."""

    ANNOTATOR = "annotator"
    ADMIN = "admin"


class BatchStatus(str, Enum):
    """Whether a batch's assignments are still being served."""

    OPEN = "open"
    CLOSED = "closed"


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def _one_of(column: str, enum: type[Enum]) -> str:
    values = ", ".join(f"'{member.value}'" for member in enum)
    return f"{column} IN ({values})"


class Base(DeclarativeBase):
    """Declarative base; constraint names follow one convention so migrations can alter them."""

    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: DateTime(timezone=True),
        dict[str, Any]: JSON,
    }


class Annotator(Base):
    """A person (or simulated annotator) who labels pairs; admins also certify others."""

    __tablename__ = "annotators"
    __table_args__ = (CheckConstraint(_one_of("role", Role), name="role"),)

    annotator_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), default=Role.ANNOTATOR.value)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    """sha256 hex of the login token; the token itself is shown once and never stored."""
    certified: Mapped[bool] = mapped_column(Boolean, default=False)
    """Result of the latest certification attempt."""
    excluded: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """The lead left this annotator's labels out of aggregation."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CertificationAttempt(Base):
    """One calibration test taken by an annotator: the kappa reached and the verdict."""

    __tablename__ = "certification_attempts"

    attempt_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    annotator_id: Mapped[str] = mapped_column(ForeignKey("annotators.annotator_id"), index=True)
    calibration_batch_id: Mapped[str] = mapped_column(ForeignKey("batches.batch_id"))
    kappa: Mapped[float] = mapped_column(Float)
    passed: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class TrajectoryRow(Base):
    """A trajectory synced from a pool manifest (the columns pairs and exports need)."""

    __tablename__ = "trajectories"

    trajectory_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    task: Mapped[str] = mapped_column(Text)
    env_id: Mapped[str] = mapped_column(String(ID))
    source: Mapped[str] = mapped_column(String(ID))
    quality_score: Mapped[float] = mapped_column(Float)
    quartile: Mapped[int] = mapped_column(SmallInteger)
    clip_path: Mapped[str | None] = mapped_column(Text)
    synced_at: Mapped[datetime] = mapped_column(default=utcnow)


class Batch(Base):
    """A set of pairs (or ranking sets) handed out together."""

    __tablename__ = "batches"
    __table_args__ = (
        CheckConstraint(_one_of("kind", BatchKind), name="kind"),
        CheckConstraint(_one_of("status", BatchStatus), name="status"),
    )

    batch_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=BatchStatus.OPEN.value)
    rubric: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """The page asks the rubric sub-questions (`RUBRIC_KEYS`) for this batch's pairs."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Pair(Base):
    """Two trajectories to compare; gold and calibration pairs keep their expected answer."""

    __tablename__ = "pairs"
    __table_args__ = (
        CheckConstraint(_one_of("kind", PairKind), name="kind"),
        CheckConstraint(_one_of("stratum", Stratum), name="stratum"),
        CheckConstraint(_one_of("expected_preference", Choice), name="expected_preference"),
        CheckConstraint("trajectory_a_id <> trajectory_b_id", name="distinct_trajectories"),
    )

    pair_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.batch_id"), index=True)
    trajectory_a_id: Mapped[str] = mapped_column(ForeignKey("trajectories.trajectory_id"))
    trajectory_b_id: Mapped[str] = mapped_column(ForeignKey("trajectories.trajectory_id"))
    task: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16))
    stratum: Mapped[str] = mapped_column(String(16))
    quartile_a: Mapped[int] = mapped_column(SmallInteger)
    quartile_b: Mapped[int] = mapped_column(SmallInteger)
    expected_preference: Mapped[str | None] = mapped_column(String(8))
    """Server-side answer of gold and calibration pairs; never sent to annotators."""
    duplicate_of: Mapped[str | None] = mapped_column(ForeignKey("pairs.pair_id"))
    rationale: Mapped[str | None] = mapped_column(Text)
    """Expert reasoning of a calibration pair, in terms of "the better clip" / "the other
    clip"; shown to an annotator only after they answered the pair."""


class Assignment(Base):
    """One annotator's copy of a pair: the side each trajectory is shown on, and progress."""

    __tablename__ = "assignments"
    __table_args__ = (
        # The queue of one batch in order: its open entries are an index range, read
        # LIMIT-first; the index also serves every lookup by annotator (its first column).
        Index("ix_assignments_queue", "annotator_id", "batch_id", "completed", "skipped",
              "position"),
    )

    pair_id: Mapped[str] = mapped_column(ForeignKey("pairs.pair_id"), primary_key=True)
    annotator_id: Mapped[str] = mapped_column(
        ForeignKey("annotators.annotator_id"), primary_key=True
    )
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.batch_id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    """Order within the annotator's queue for this batch (0 first)."""
    left_trajectory_id: Mapped[str] = mapped_column(ForeignKey("trajectories.trajectory_id"))
    shown_at: Mapped[datetime | None] = mapped_column()
    completed: Mapped[bool] = mapped_column(Boolean, default=False)
    completed_at: Mapped[datetime | None] = mapped_column()
    skipped: Mapped[bool] = mapped_column(Boolean, default=False)
    """The annotator (or a B-Pref skip teacher) declined to answer."""


class AssignmentCount(Base):
    """How many pairs of a batch an annotator holds and has finished: kept with every write.

    The store's writers (`create_batch`, `add_assignments`, `submit_annotation`,
    `skip_assignment`) update it in the transaction that changes the assignments, so an
    annotator's progress and queue position are a few primary-key rows, however many
    assignments they hold.
    """

    __tablename__ = "assignment_counts"

    annotator_id: Mapped[str] = mapped_column(
        ForeignKey("annotators.annotator_id"), primary_key=True
    )
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.batch_id"), primary_key=True)
    assigned: Mapped[int] = mapped_column(Integer)
    """Assignments the annotator holds in the batch."""
    done: Mapped[int] = mapped_column(Integer)
    """Of those, answered or skipped."""


class Annotation(Base):
    """One judgement of one pair by one annotator (the raw-annotation contract)."""

    __tablename__ = "annotations"
    __table_args__ = (
        UniqueConstraint("annotator_id", "idempotency_key", name="uq_annotations_idempotency"),
        CheckConstraint(_one_of("preference", Choice), name="preference"),
        CheckConstraint("confidence BETWEEN 1 AND 5", name="confidence"),
        CheckConstraint("response_time_ms >= 0", name="response_time_ms"),
        Index("ix_annotations_annotator_pair", "annotator_id", "pair_id"),
    )

    annotation_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    pair_id: Mapped[str] = mapped_column(ForeignKey("pairs.pair_id"), index=True)
    trajectory_a_id: Mapped[str] = mapped_column(ForeignKey("trajectories.trajectory_id"))
    trajectory_b_id: Mapped[str] = mapped_column(ForeignKey("trajectories.trajectory_id"))
    annotator_id: Mapped[str] = mapped_column(ForeignKey("annotators.annotator_id"))
    preference: Mapped[str] = mapped_column(String(8))
    """`A`, `B` or `equal`, about the pair's A/B (not the screen side)."""
    confidence: Mapped[int] = mapped_column(SmallInteger)
    response_time_ms: Mapped[int] = mapped_column(BigInteger)
    free_text_reason: Mapped[str | None] = mapped_column(Text)
    left_trajectory_id: Mapped[str] = mapped_column(ForeignKey("trajectories.trajectory_id"))
    rubric_answers: Mapped[dict[str, Any] | None] = mapped_column()
    interface_version: Mapped[str | None] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(ID))
    shown_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RankingSet(Base):
    """5–10 trajectories of one instruction to be ranked best → worst."""

    __tablename__ = "ranking_sets"

    ranking_set_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.batch_id"), index=True)
    task: Mapped[str] = mapped_column(Text)


class RankingSetMember(Base):
    """A trajectory of a ranking set, in presentation order."""

    __tablename__ = "ranking_set_members"

    ranking_set_id: Mapped[str] = mapped_column(
        ForeignKey("ranking_sets.ranking_set_id"), primary_key=True
    )
    trajectory_id: Mapped[str] = mapped_column(
        ForeignKey("trajectories.trajectory_id"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer)


class RankingAssignment(Base):
    """Who is asked to rank a set."""

    __tablename__ = "ranking_assignments"

    ranking_set_id: Mapped[str] = mapped_column(
        ForeignKey("ranking_sets.ranking_set_id"), primary_key=True
    )
    annotator_id: Mapped[str] = mapped_column(
        ForeignKey("annotators.annotator_id"), primary_key=True
    )
    completed: Mapped[bool] = mapped_column(Boolean, default=False)


class Ranking(Base):
    """One annotator's ordering of a ranking set."""

    __tablename__ = "rankings"
    __table_args__ = (
        UniqueConstraint("annotator_id", "idempotency_key", name="uq_rankings_idempotency"),
        CheckConstraint("response_time_ms >= 0", name="response_time_ms"),
    )

    ranking_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ranking_set_id: Mapped[str] = mapped_column(
        ForeignKey("ranking_sets.ranking_set_id"), index=True
    )
    annotator_id: Mapped[str] = mapped_column(ForeignKey("annotators.annotator_id"))
    response_time_ms: Mapped[int] = mapped_column(BigInteger)
    idempotency_key: Mapped[str] = mapped_column(String(ID))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RankingItem(Base):
    """The trajectory an annotator put at one rank (0 = best)."""

    __tablename__ = "ranking_items"

    ranking_id: Mapped[str] = mapped_column(ForeignKey("rankings.ranking_id"), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer, primary_key=True)
    trajectory_id: Mapped[str] = mapped_column(ForeignKey("trajectories.trajectory_id"))
    flags: Mapped[list[str] | None] = mapped_column(JSON)
    """The annotator's flags on this clip, a subset of `RANKING_FLAGS` (None: none given)."""

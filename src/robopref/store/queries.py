"""Store reads and writes for annotators, certification, trajectories, batches and exports.

Submissions live in `store/submit.py` and rankings in `store/rankings.py`; no other module
of robopref issues SQL.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections.abc import Hashable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Select, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from robopref.errors import InputError
from robopref.pairs.records import ASSIGNMENT_COLUMNS, PAIR_COLUMNS
from robopref.schemas import ANNOTATIONS_SCHEMA, text_problem
from robopref.store.models import (
    Annotation,
    Annotator,
    Assignment,
    Batch,
    BatchStatus,
    CertificationAttempt,
    Pair,
    Role,
    TrajectoryRow,
    utcnow,
)
from robopref.store.session import Store
from robopref.store.text import check_id, check_ids, check_row, shown

logger = logging.getLogger(__name__)

TRAJECTORY_COLUMNS = (
    "trajectory_id", "task", "env_id", "source", "quality_score", "quartile", "clip_path",
)
"""Manifest columns the store keeps (`sync_trajectories`)."""

ASSIGNMENT_EXTRA_COLUMNS = ("batch_id", "position", "shown_at", "completed", "skipped")
"""Columns `assignments_frame` adds after `ASSIGNMENT_COLUMNS`."""

CERTIFICATION_COLUMNS = ("annotator_id", "calibration_batch_id", "kappa", "passed", "at")
"""Columns of `certification_history`."""


def as_utc(value: datetime | None) -> datetime | None:
    """A timezone-aware UTC datetime (SQLite hands back naive UTC values)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def hash_token(token: str) -> str:
    """sha256 hex digest of a login token (only the digest is stored)."""
    return hashlib.sha256(token.encode()).hexdigest()


# --- annotators and certification -------------------------------------------------------


def add_annotator(store: Store, annotator_id: str, role: Role | str = Role.ANNOTATOR) -> str:
    """Create an account and return its login token; the token is not stored, only its hash.

    An id registered without a token (by `create_batch`) gets one; an id that already
    has a token is refused.

    Raises:
        InputError: An id the store cannot hold (`store.text`), unknown role, or the
            annotator already has a token.
    """
    check_id(annotator_id, where=shown(annotator_id), field="annotator_id")
    try:
        role = Role(role)
    except ValueError:
        raise InputError(annotator_id, "role", f"{role!r} is not annotator or admin") from None
    token = secrets.token_urlsafe(32)
    with store.write() as session:
        row = session.get(Annotator, annotator_id)
        if row is not None and row.token_hash is not None:
            raise InputError(annotator_id, "annotator_id", "already exists; use issue_token")
        if row is None:
            row = Annotator(annotator_id=annotator_id)
            session.add(row)
        row.role = role.value
        row.token_hash = hash_token(token)
    return token


def issue_token(store: Store, annotator_id: str) -> str:
    """Replace an annotator's token with a new one and return it (the old one stops working).

    Raises:
        InputError: No such annotator.
    """
    check_id(annotator_id, where=shown(annotator_id), field="annotator_id")
    token = secrets.token_urlsafe(32)
    with store.write() as session:
        row = session.get(Annotator, annotator_id)
        if row is None:
            raise InputError(annotator_id, "annotator_id", "no such annotator")
        row.token_hash = hash_token(token)
    return token


def annotator_for_token(store: Store, token: str) -> tuple[str, Role] | None:
    """The (annotator_id, role) a token logs in as, or None (also for a token no login has)."""
    if not isinstance(token, str) or not token or text_problem(token) is not None:
        return None
    with store.read() as session:
        row = session.scalars(
            select(Annotator).where(Annotator.token_hash == hash_token(token))
        ).first()
        return None if row is None else (row.annotator_id, Role(row.role))


def ensure_annotators(session: Session, annotator_ids: Iterable[str]) -> list[str]:
    """Register ids not yet in the store as annotators without a token; returns the new ones."""
    wanted = sorted(set(annotator_ids))
    known = set(session.scalars(select(Annotator.annotator_id).where(
        Annotator.annotator_id.in_(wanted))))
    new = [a for a in wanted if a not in known]
    session.add_all(Annotator(annotator_id=a, role=Role.ANNOTATOR.value) for a in new)
    return new


def is_certified(store: Store, annotator_id: str) -> bool:
    """Whether the annotator's latest certification attempt passed."""
    check_ids(shown(annotator_id), annotator_id=annotator_id)
    with store.read() as session:
        row = session.get(Annotator, annotator_id)
        return bool(row is not None and row.certified)


def certification_history(store: Store, annotator_id: str | None = None) -> pd.DataFrame:
    """Certification attempts, oldest first (`CERTIFICATION_COLUMNS`): the kappa history."""
    check_ids("certification history", annotator_id=annotator_id)
    query = select(CertificationAttempt).order_by(CertificationAttempt.attempt_id)
    if annotator_id is not None:
        query = query.where(CertificationAttempt.annotator_id == annotator_id)
    with store.read() as session:
        rows = [
            (a.annotator_id, a.calibration_batch_id, a.kappa, a.passed, as_utc(a.at))
            for a in session.scalars(query)
        ]
    return pd.DataFrame(rows, columns=list(CERTIFICATION_COLUMNS))


# --- trajectories -------------------------------------------------------------------------


def sync_trajectories(store: Store, manifest: pd.DataFrame, *, chunk: int = 500) -> int:
    """Insert or update the store's trajectories from a pool manifest; returns rows written.

    Raises:
        InputError: The manifest lacks one of `TRAJECTORY_COLUMNS`, or a text value could
            not be stored (`store.text`; the error names the manifest row).
    """
    missing = [c for c in TRAJECTORY_COLUMNS if c not in manifest.columns]
    if missing:
        raise InputError("manifest", missing[0], "column missing")
    rows = [_trajectory_row(r) for r in manifest[list(TRAJECTORY_COLUMNS)].to_dict("records")]
    for number, row in enumerate(rows, start=1):
        check_row(TrajectoryRow, row, where=f"manifest row {number}")
    dialect = sqlite if store.is_sqlite else postgresql
    with store.write() as session:
        for start in range(0, len(rows), chunk):
            statement = dialect.insert(TrajectoryRow).values(rows[start : start + chunk])
            changed = {c: statement.excluded[c] for c in TRAJECTORY_COLUMNS[1:]}
            session.execute(statement.on_conflict_do_update(
                index_elements=["trajectory_id"], set_={**changed, "synced_at": utcnow()}))
    return len(rows)


def _trajectory_row(record: Mapping[Hashable, Any]) -> dict[str, Any]:
    clip = record["clip_path"]
    return {
        "trajectory_id": str(record["trajectory_id"]),
        "task": str(record["task"]),
        "env_id": str(record["env_id"]),
        "source": str(record["source"]),
        "quality_score": float(record["quality_score"]),
        "quartile": int(record["quartile"]),
        "clip_path": None if clip is None or pd.isna(clip) else str(clip),
        "synced_at": utcnow(),
    }


def trajectories_frame(store: Store) -> pd.DataFrame:
    """The synced trajectories (`TRAJECTORY_COLUMNS`)."""
    with store.read() as session:
        rows = session.execute(
            select(*(getattr(TrajectoryRow, c) for c in TRAJECTORY_COLUMNS))
            .order_by(TrajectoryRow.trajectory_id)
        ).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=list(TRAJECTORY_COLUMNS))


# --- batches ------------------------------------------------------------------------------


def set_batch_status(store: Store, batch_id: str, status: BatchStatus | str) -> None:
    """Open or close a batch (closed batches are not served by `next_assignment`).

    Raises:
        InputError: Unknown batch or status.
    """
    check_ids(shown(batch_id), batch_id=batch_id)
    try:
        value = BatchStatus(status).value
    except ValueError:
        raise InputError(batch_id, "status", f"{status!r} is not open or closed") from None
    with store.write() as session:
        changed = session.execute(update(Batch).where(Batch.batch_id == batch_id).values(
            status=value)).rowcount  # type: ignore[attr-defined]
        if not changed:
            raise InputError(batch_id, "batch_id", "no such batch")


def batch_ids(store: Store) -> list[str]:
    """Every batch id, oldest first."""
    with store.read() as session:
        return list(session.scalars(select(Batch.batch_id).order_by(Batch.created_at)))


def batch_annotator_ids(store: Store, batch_id: str) -> list[str]:
    """Sorted ids of the annotators with assignments in a batch.

    Raises:
        InputError: Unknown batch.
    """
    check_ids(shown(batch_id), batch_id=batch_id)
    with store.read() as session:
        if session.get(Batch, batch_id) is None:
            raise InputError(batch_id, "batch_id", "no such batch")
        return sorted(session.scalars(
            select(Assignment.annotator_id).where(Assignment.batch_id == batch_id).distinct()))


# --- frames -------------------------------------------------------------------------------


def pairs_frame(store: Store, batch_id: str | None = None) -> pd.DataFrame:
    """Pairs with `PAIR_COLUMNS` (gold answers included: for QA, never for annotators)."""
    check_ids("pairs", batch_id=batch_id)
    query: Select[Any] = select(*(getattr(Pair, c) for c in PAIR_COLUMNS)).order_by(Pair.pair_id)
    if batch_id is not None:
        query = query.where(Pair.batch_id == batch_id)
    with store.read() as session:
        rows = [tuple(r) for r in session.execute(query)]
    frame = pd.DataFrame(rows, columns=list(PAIR_COLUMNS))
    return frame.astype({"quartile_a": "int64", "quartile_b": "int64"})


def assignments_frame(store: Store, batch_id: str | None = None) -> pd.DataFrame:
    """Assignments: `ASSIGNMENT_COLUMNS` then `ASSIGNMENT_EXTRA_COLUMNS`."""
    check_ids("assignments", batch_id=batch_id)
    columns = (*ASSIGNMENT_COLUMNS, *ASSIGNMENT_EXTRA_COLUMNS)
    query: Select[Any] = select(*(getattr(Assignment, c) for c in columns)).order_by(
        Assignment.annotator_id, Assignment.batch_id, Assignment.position)
    if batch_id is not None:
        query = query.where(Assignment.batch_id == batch_id)
    with store.read() as session:
        rows = [tuple(r) for r in session.execute(query)]
    frame = pd.DataFrame(rows, columns=list(columns))
    shown = pd.Series([as_utc(t) for t in frame["shown_at"]], dtype=object)
    frame["shown_at"] = pd.to_datetime(shown, utc=True)
    return frame.astype({"position": "int64", "completed": bool, "skipped": bool})


def annotations_frame(store: Store, batch_id: str | None = None) -> pd.DataFrame:
    """Raw annotations with exactly `ANNOTATIONS_SCHEMA`'s columns, oldest first.

    `rubric_answers` is a JSON string (keys sorted) or None; timestamps are UTC.
    """
    check_ids("annotations", batch_id=batch_id)
    query = (
        select(Annotation, Pair.batch_id)
        .join(Pair, Pair.pair_id == Annotation.pair_id)
        .order_by(Annotation.created_at, Annotation.annotation_id)
    )
    if batch_id is not None:
        query = query.where(Pair.batch_id == batch_id)
    with store.read() as session:
        rows = [_annotation_record(a, b) for a, b in session.execute(query)]
    frame = pd.DataFrame(rows, columns=ANNOTATIONS_SCHEMA.names)
    for column in ("shown_at", "created_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True).astype("datetime64[us, UTC]")
    return frame.astype({"confidence": "int8", "response_time_ms": "int64"})


def _annotation_record(a: Annotation, batch_id: str) -> dict[str, Any]:
    rubric = None if a.rubric_answers is None else json.dumps(a.rubric_answers, sort_keys=True)
    return {
        "annotation_id": a.annotation_id, "pair_id": a.pair_id,
        "trajectory_a_id": a.trajectory_a_id, "trajectory_b_id": a.trajectory_b_id,
        "annotator_id": a.annotator_id, "preference": a.preference, "confidence": a.confidence,
        "response_time_ms": a.response_time_ms, "free_text_reason": a.free_text_reason,
        "left_trajectory_id": a.left_trajectory_id, "batch_id": batch_id,
        "rubric_answers": rubric, "interface_version": a.interface_version,
        "shown_at": as_utc(a.shown_at), "created_at": as_utc(a.created_at),
    }


def count_annotations(
    store: Store, *, batch_id: str | None = None, annotator_ids: Sequence[str] | None = None
) -> int:
    """Number of stored annotations, optionally of one batch and/or some annotators."""
    check_ids("annotation count", batch_id=batch_id)
    for annotator_id in annotator_ids or ():
        check_ids("annotation count", annotator_id=annotator_id)
    query = select(func.count()).select_from(Annotation)
    if batch_id is not None:
        query = query.join(Pair, Pair.pair_id == Annotation.pair_id).where(
            Pair.batch_id == batch_id)
    if annotator_ids is not None:
        query = query.where(Annotation.annotator_id.in_(list(annotator_ids)))
    with store.read() as session:
        return int(session.scalar(query) or 0)

"""Annotators' side of the store: skipping and transactional submits (the queue: `store.queue`)."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from robopref.errors import InputError
from robopref.store.models import (
    Annotation,
    Assignment,
    Pair,
    utcnow,
)
from robopref.store.records import Submission, SubmitResult
from robopref.store.session import Store
from robopref.store.text import check_ids, shown

logger = logging.getLogger(__name__)

_NAMESPACE = uuid.UUID("5b0c7a52-4c47-4d55-9a4e-6f1f3f0b7e21")


class NotAssignedError(InputError):
    """The pair (or ranking set) is not assigned to the annotator who submitted it."""


class AlreadyAnnotatedError(InputError):
    """The annotator already answered this pair under another idempotency key."""


def stored_id(annotator_id: str, idempotency_key: str) -> str:
    """The id a submission is stored under, a function of annotator and key.

    A retry lands on the same primary key, so it can never be stored twice.

    >>> stored_id("ann-1", "k1") == stored_id("ann-1", "k1") != stored_id("ann-2", "k1")
    True
    """
    return uuid.uuid5(_NAMESPACE, f"{annotator_id}\x00{idempotency_key}").hex


def submit_annotation(store: Store, submission: Submission) -> SubmitResult:
    """Store one answer in one transaction; once this returns, the annotation is durable.

    A second submission with the same (annotator, idempotency key) writes nothing and
    returns the original id with `created=False`, also when both arrive at once.

    Raises:
        InputError: A field is invalid (the error names it); nothing is written.
        NotAssignedError: The pair is not assigned to this annotator.
        AlreadyAnnotatedError: The pair was answered under a different key.
    """
    choice = submission.validate()
    annotation_id = stored_id(submission.annotator_id, submission.idempotency_key)
    try:
        with store.write() as session:
            if session.get(Annotation, annotation_id) is not None:
                return SubmitResult(annotation_id, created=False)
            assignment = session.get(Assignment, (submission.pair_id, submission.annotator_id))
            pair = session.get(Pair, submission.pair_id)
            where = f"annotation {shown(submission.annotator_id)}/{shown(submission.pair_id)}"
            if assignment is None or pair is None:
                raise NotAssignedError(where, "pair_id", "this pair is not assigned to annotator "
                                       f"{submission.annotator_id!r}")
            if submission.left_trajectory_id not in (pair.trajectory_a_id, pair.trajectory_b_id):
                raise InputError(where, "left_trajectory_id",
                                 f"{submission.left_trajectory_id!r} is not in this pair")
            now = utcnow()
            session.add(Annotation(
                annotation_id=annotation_id, pair_id=pair.pair_id,
                trajectory_a_id=pair.trajectory_a_id, trajectory_b_id=pair.trajectory_b_id,
                annotator_id=submission.annotator_id, preference=choice.value,
                confidence=submission.confidence, response_time_ms=submission.response_time_ms,
                free_text_reason=submission.free_text_reason,
                left_trajectory_id=submission.left_trajectory_id,
                rubric_answers=None if submission.rubric_answers is None
                else dict(submission.rubric_answers),
                interface_version=submission.interface_version,
                idempotency_key=submission.idempotency_key,
                shown_at=submission.shown_at or assignment.shown_at, created_at=now,
            ))
            session.flush()  # a concurrent twin with the same key fails here, not at commit
            _complete(session, assignment, where, now)
    except IntegrityError:
        original = _existing(store, annotation_id)
        if original is None:
            raise
        return SubmitResult(original, created=False)
    return SubmitResult(annotation_id, created=True)


def _complete(session: Session, assignment: Assignment, where: str, now: datetime) -> None:
    # compare-and-set: of two different keys racing for one assignment, exactly one wins
    result = session.execute(
        update(Assignment)
        .where(Assignment.pair_id == assignment.pair_id,
               Assignment.annotator_id == assignment.annotator_id,
               Assignment.completed.is_(False))
        .values(completed=True, completed_at=now, skipped=False)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise AlreadyAnnotatedError(where, "pair_id", "already answered by this annotator "
                                    "under another idempotency key")


def _existing(store: Store, annotation_id: str) -> str | None:
    with store.read() as session:
        row = session.get(Annotation, annotation_id)
        return None if row is None else row.annotation_id


def skip_assignment(store: Store, annotator_id: str, pair_id: str) -> None:
    """Mark an assignment skipped (the annotator could not judge it); it leaves the queue.

    Raises:
        InputError: An id that the store could not hold.
        NotAssignedError: The pair is not assigned to this annotator.
    """
    where = f"annotation {shown(annotator_id)}/{shown(pair_id)}"
    check_ids(where, annotator_id=annotator_id, pair_id=pair_id)
    with store.write() as session:
        assignment = session.get(Assignment, (pair_id, annotator_id))
        if assignment is None:
            raise NotAssignedError(where, "pair_id",
                                   f"this pair is not assigned to annotator {annotator_id!r}")
        if not assignment.completed:
            assignment.skipped = True

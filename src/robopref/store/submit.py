"""Annotators' side of the store: skipping and transactional submits (the queue: `store.queue`)."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from robopref.errors import InputError
from robopref.store.counts import count_done, count_done_in
from robopref.store.models import (
    Annotation,
    Assignment,
    Pair,
    utcnow,
)
from robopref.store.pending import Showings
from robopref.store.pg_submit import submit_in_one_statement, submit_parameters
from robopref.store.prepared import Prepared, RawConnection
from robopref.store.records import Submission, SubmitResult
from robopref.store.session import Store
from robopref.store.shown import fill_answers_shown, put_back_shown, write_shown
from robopref.store.text import check_ids, shown
from robopref.types import Choice

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
    if not store.is_sqlite:
        return _submit_postgres(store, submission, choice, annotation_id)
    showings: Showings = {}
    try:
        with store.raw_write() as connection:
            # the annotator's deferred showings (this pair's first): in this commit
            showings = write_shown(connection, store, submission.annotator_id)
            created = _store(connection, submission, choice, annotation_id)
            if not created:  # a retry: its answer may come from a worker without the showing
                fill_answers_shown(connection, showings)
    except BaseException as exc:
        put_back_shown(store, showings)  # rolled back: they wait for the next commit
        if not isinstance(exc, IntegrityError):
            raise
        original = _existing(store, annotation_id)
        if original is None:
            raise
        return SubmitResult(original, created=False)
    return SubmitResult(annotation_id, created=created)


def _submit_postgres(store: Store, submission: Submission, choice: Choice,
                     annotation_id: str) -> SubmitResult:
    """`submit_annotation` on PostgreSQL: one statement, one round trip (`store.pg_submit`).

    It writes the pair's own deferred showing; the annotator's showings of other pairs
    wait for the flush (`store.shown.FLUSH_S`).
    """
    showings = store.pending_shown.take_pair(submission.pair_id, submission.annotator_id)
    parameters = submit_parameters(submission, choice, annotation_id, showings, utcnow())
    try:
        result = submit_in_one_statement(store, parameters)
    except BaseException as exc:
        put_back_shown(store, showings)
        original = _existing(store, annotation_id) if isinstance(exc, IntegrityError) else None
        if original is None:
            raise
        return SubmitResult(original, created=False)
    if result.outcome == "stored" or (result.outcome == "create" and result.inserted):
        return SubmitResult(annotation_id, created=result.outcome == "create")
    put_back_shown(store, showings)  # nothing was written: they wait for the next commit
    where = f"annotation {shown(submission.annotator_id)}/{shown(submission.pair_id)}"
    if result.outcome == "not_assigned":
        raise NotAssignedError(where, "pair_id", "this pair is not assigned to annotator "
                               f"{submission.annotator_id!r}")
    if result.outcome == "bad_left":
        raise InputError(where, "left_trajectory_id",
                         f"{submission.left_trajectory_id!r} is not in this pair")
    # answered already: by a twin with this key that committed while this one waited for
    # the assignment's lock (stored once: the original), or under another key (refused)
    if _existing(store, annotation_id) is not None:
        return SubmitResult(annotation_id, created=False)
    raise AlreadyAnnotatedError(where, "pair_id", "already answered by this annotator "
                                "under another idempotency key")


def _store(connection: RawConnection, submission: Submission, choice: Choice,
           annotation_id: str) -> bool:
    """The answer's writes inside the submit's transaction; False for a retried key."""
    if _STORED.first(connection, {"annotation_id": annotation_id}) is not None:
        return False
    target = _ASSIGNED.first(connection, {"pair_id": submission.pair_id,
                                          "annotator_id": submission.annotator_id})
    where = f"annotation {shown(submission.annotator_id)}/{shown(submission.pair_id)}"
    if target is None:
        raise NotAssignedError(where, "pair_id", "this pair is not assigned to annotator "
                               f"{submission.annotator_id!r}")
    if submission.left_trajectory_id not in (target.trajectory_a_id, target.trajectory_b_id):
        raise InputError(where, "left_trajectory_id",
                         f"{submission.left_trajectory_id!r} is not in this pair")
    now = utcnow()
    # a concurrent twin with the same key fails on this insert's primary key
    _INSERT.rowcount(connection, {
        "annotation_id": annotation_id, "pair_id": submission.pair_id,
        "trajectory_a_id": target.trajectory_a_id, "trajectory_b_id": target.trajectory_b_id,
        "annotator_id": submission.annotator_id, "preference": choice.value,
        "confidence": submission.confidence, "response_time_ms": submission.response_time_ms,
        "free_text_reason": submission.free_text_reason,
        "left_trajectory_id": submission.left_trajectory_id,
        "rubric_answers": None if submission.rubric_answers is None
        else dict(submission.rubric_answers),
        "interface_version": submission.interface_version,
        "idempotency_key": submission.idempotency_key,
        "shown_at": submission.shown_at or target.shown_at, "created_at": now,
    })
    _complete(connection, submission.pair_id, submission.annotator_id, where, now)
    if not target.skipped:  # a skipped pair was counted done when it was skipped
        count_done(connection, submission.annotator_id, target.batch_id)
    return True


_STORED = Prepared(select(Annotation.annotation_id).where(
    Annotation.annotation_id == bindparam("annotation_id")))
"""Prepared once: the idempotency check of every submit."""
_ASSIGNED = Prepared(
    select(Assignment.shown_at, Assignment.batch_id, Assignment.skipped, Pair.trajectory_a_id,
           Pair.trajectory_b_id)
    .join(Pair, Pair.pair_id == Assignment.pair_id)
    .where(Assignment.pair_id == bindparam("pair_id"),
           Assignment.annotator_id == bindparam("annotator_id"))
    .with_for_update(of=Assignment)  # PostgreSQL: `skipped` stays as read (SQLite: no-op)
)
"""Prepared once: the assignment a submit answers and its pair, in one read by primary key."""
_INSERT = Prepared(insert(Annotation).values({
    column: bindparam(column) for column in (
        "annotation_id", "pair_id", "trajectory_a_id", "trajectory_b_id", "annotator_id",
        "preference", "confidence", "response_time_ms", "free_text_reason",
        "left_trajectory_id", "rubric_answers", "interface_version", "idempotency_key",
        "shown_at", "created_at")
}))
"""Prepared once: the answer's row (the column names are the parameter names)."""


_COMPLETE = Prepared(
    update(Assignment)
    .where(Assignment.pair_id == bindparam("pair"),
           Assignment.annotator_id == bindparam("annotator"), Assignment.completed.is_(False))
    .values(completed=True, completed_at=bindparam("now"), skipped=False)
)


def _complete(connection: RawConnection, pair_id: str, annotator_id: str, where: str,
              now: datetime) -> None:
    # compare-and-set: of two different keys racing for one assignment, exactly one wins
    matched = _COMPLETE.rowcount(connection, {"pair": pair_id, "annotator": annotator_id,
                                              "now": now})
    if matched != 1:
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
        assignment = session.get(Assignment, (pair_id, annotator_id), with_for_update=True)
        if assignment is None:
            raise NotAssignedError(where, "pair_id",
                                   f"this pair is not assigned to annotator {annotator_id!r}")
        if not assignment.completed and not assignment.skipped:
            assignment.skipped = True
            count_done_in(session, annotator_id, assignment.batch_id)

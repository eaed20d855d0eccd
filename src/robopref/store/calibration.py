"""Calibration attempts as the web app needs them: scored once, and their answers for feedback."""

from __future__ import annotations

from sqlalchemy import select

from robopref.errors import InputError
from robopref.store.models import (
    Annotation,
    Annotator,
    Batch,
    CertificationAttempt,
    Pair,
    TrajectoryRow,
    utcnow,
)
from robopref.store.records import CalibrationAnswer, CertificationRecord
from robopref.store.session import Store
from robopref.store.text import check_ids, shown
from robopref.types import Choice


def record_certification(
    store: Store, *, annotator_id: str, calibration_batch_id: str, kappa: float, passed: bool
) -> CertificationRecord:
    """Append a certification attempt and set the annotator's state to its verdict.

    Raises:
        InputError: Unknown annotator or batch, or kappa outside [-1, 1].
    """
    recorded = _record(store, annotator_id=annotator_id, calibration_batch_id=calibration_batch_id,
                       kappa=kappa, passed=passed, once=False)
    assert recorded is not None  # without `once` an attempt is always appended
    return recorded


def record_certification_once(
    store: Store, *, annotator_id: str, calibration_batch_id: str, kappa: float, passed: bool
) -> CertificationRecord | None:
    """Record an attempt unless one exists for this annotator and set; None when it did.

    The annotator's row is locked first (`FOR UPDATE` on PostgreSQL; SQLite writers are
    serialised), so two workers finishing the same set record it once.

    Raises:
        InputError: Unknown annotator or batch, or kappa outside [-1, 1].
    """
    return _record(store, annotator_id=annotator_id, calibration_batch_id=calibration_batch_id,
                   kappa=kappa, passed=passed, once=True)


def _record(
    store: Store, *, annotator_id: str, calibration_batch_id: str, kappa: float, passed: bool,
    once: bool,
) -> CertificationRecord | None:
    check_ids(shown(annotator_id), annotator_id=annotator_id,
              calibration_batch_id=calibration_batch_id)
    if not -1.0 <= kappa <= 1.0:
        raise InputError(annotator_id, "kappa", f"{kappa} is outside [-1, 1]")
    with store.write() as session:
        annotator = session.scalars(select(Annotator).where(
            Annotator.annotator_id == annotator_id).with_for_update()).first()
        if annotator is None:
            raise InputError(annotator_id, "annotator_id", "no such annotator")
        if session.get(Batch, calibration_batch_id) is None:
            raise InputError(calibration_batch_id, "calibration_batch_id", "no such batch")
        seen = once and session.scalars(select(CertificationAttempt.attempt_id).where(
            CertificationAttempt.annotator_id == annotator_id,
            CertificationAttempt.calibration_batch_id == calibration_batch_id)).first()
        if seen:
            return None
        attempt = CertificationAttempt(
            annotator_id=annotator_id, calibration_batch_id=calibration_batch_id,
            kappa=float(kappa), passed=bool(passed), at=utcnow(),
        )
        session.add(attempt)
        annotator.certified = bool(passed)
    return CertificationRecord(
        annotator_id=annotator_id, calibration_batch_id=calibration_batch_id,
        kappa=float(kappa), passed=bool(passed), at=attempt.at,
    )


def calibration_answers(store: Store, annotator_id: str, batch_id: str) -> list[CalibrationAnswer]:
    """The annotator's answers in a batch with each pair's expert answer and rationale.

    Only pairs the annotator answered appear (skipped and unanswered ones do not), in the
    order they were answered.

    Raises:
        InputError: An id the store could not hold.
    """
    check_ids(f"answers of {shown(annotator_id)}", annotator_id=annotator_id, batch_id=batch_id)
    query = (
        select(Annotation, Pair)
        .join(Pair, Pair.pair_id == Annotation.pair_id)
        .where(Annotation.annotator_id == annotator_id, Pair.batch_id == batch_id)
        .order_by(Annotation.created_at, Annotation.annotation_id)
    )
    with store.read() as session:
        rows = session.execute(query).all()
        shown_ids = {t for _, p in rows for t in (p.trajectory_a_id, p.trajectory_b_id)}
        clips = dict(session.execute(
            select(TrajectoryRow.trajectory_id, TrajectoryRow.clip_path).where(
                TrajectoryRow.trajectory_id.in_(sorted(shown_ids)))).all())
    return [_answer(annotation, pair, clips) for annotation, pair in rows]


def _answer(annotation: Annotation, pair: Pair, clips: dict[str, str | None]) -> CalibrationAnswer:
    left = annotation.left_trajectory_id
    right = pair.trajectory_b_id if left == pair.trajectory_a_id else pair.trajectory_a_id
    expected = pair.expected_preference
    return CalibrationAnswer(
        pair_id=pair.pair_id, task=pair.task, trajectory_a_id=pair.trajectory_a_id,
        trajectory_b_id=pair.trajectory_b_id, left_trajectory_id=left,
        left_clip_path=clips.get(left), right_clip_path=clips.get(right),
        preference=Choice(annotation.preference),
        expected=None if expected is None else Choice(expected), rationale=pair.rationale,
    )


def scored_batch_ids(store: Store, annotator_id: str) -> list[str]:
    """The calibration batches the annotator's recorded attempts were on, oldest first.

    Raises:
        InputError: An id the store could not hold.
    """
    check_ids(f"attempts of {shown(annotator_id)}", annotator_id=annotator_id)
    query = (select(CertificationAttempt.calibration_batch_id)
             .where(CertificationAttempt.annotator_id == annotator_id)
             .order_by(CertificationAttempt.attempt_id))
    with store.read() as session:
        return list(session.scalars(query))

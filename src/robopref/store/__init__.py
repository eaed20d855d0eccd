"""Annotation store: SQLAlchemy 2 models, Alembic migrations, SQLite (WAL) or PostgreSQL.

Typical use::

    store = open_store("sqlite:///robopref.db")          # or postgresql+psycopg://…
    sync_trajectories(store, robopref.pool.open(path).manifest)
    create_batch(store, batch)                           # a PairBatch from robopref.pairs
    submit_annotation(store, Submission(...))            # durable once it returns
    annotations_frame(store)                             # ANNOTATIONS_SCHEMA columns
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from robopref.lazy_exports import lazy_getattr

if TYPE_CHECKING:
    from robopref.store.batches import (
        add_assignments,
        calibration_batch_ids,
        create_batch,
        load_batch,
    )
    from robopref.store.calibration import (
        calibration_answers,
        record_certification,
        record_certification_once,
        scored_batch_ids,
    )
    from robopref.store.defaults import DEFAULT_URL
    from robopref.store.models import Base, BatchStatus, Role
    from robopref.store.progress import (
        annotator_batch_ids,
        assignment_progress,
        is_batch_finished,
        pair_batch,
    )
    from robopref.store.queries import (
        ASSIGNMENT_EXTRA_COLUMNS,
        CERTIFICATION_COLUMNS,
        TRAJECTORY_COLUMNS,
        add_annotator,
        annotations_frame,
        annotator_for_token,
        assignments_frame,
        batch_annotator_ids,
        batch_ids,
        certification_history,
        count_annotations,
        is_certified,
        issue_token,
        pairs_frame,
        set_batch_status,
        sync_trajectories,
        trajectories_frame,
    )
    from robopref.store.queue import next_assignment, upcoming_assignments
    from robopref.store.ranking_queue import (
        assigned_ranking_set_ids,
        next_ranking,
        ranking_set_members,
        rankings_waiting,
    )
    from robopref.store.rankings import (
        RANKING_PREFERENCE_COLUMNS,
        ranking_preferences,
        submit_ranking,
    )
    from robopref.store.records import (
        RANKING_FLAGS,
        RUBRIC_KEYS,
        CalibrationAnswer,
        CertificationRecord,
        Progress,
        QueueItem,
        RankingQueueItem,
        RankingSubmission,
        Submission,
        SubmitResult,
    )
    from robopref.store.session import Store, open_store, upgrade_schema
    from robopref.store.submit import (
        AlreadyAnnotatedError,
        NotAssignedError,
        skip_assignment,
        submit_annotation,
    )
    from robopref.store.work import WorkSnapshot, annotator_work

_WHERE = {
    "add_assignments": ("batches", "add_assignments"),
    "calibration_batch_ids": ("batches", "calibration_batch_ids"),
    "create_batch": ("batches", "create_batch"),
    "load_batch": ("batches", "load_batch"),
    "Base": ("models", "Base"),
    "BatchStatus": ("models", "BatchStatus"),
    "Role": ("models", "Role"),
    "ASSIGNMENT_EXTRA_COLUMNS": ("queries", "ASSIGNMENT_EXTRA_COLUMNS"),
    "CERTIFICATION_COLUMNS": ("queries", "CERTIFICATION_COLUMNS"),
    "TRAJECTORY_COLUMNS": ("queries", "TRAJECTORY_COLUMNS"),
    "add_annotator": ("queries", "add_annotator"),
    "annotations_frame": ("queries", "annotations_frame"),
    "annotator_for_token": ("queries", "annotator_for_token"),
    "assignments_frame": ("queries", "assignments_frame"),
    "batch_annotator_ids": ("queries", "batch_annotator_ids"),
    "batch_ids": ("queries", "batch_ids"),
    "certification_history": ("queries", "certification_history"),
    "count_annotations": ("queries", "count_annotations"),
    "is_certified": ("queries", "is_certified"),
    "issue_token": ("queries", "issue_token"),
    "pairs_frame": ("queries", "pairs_frame"),
    "record_certification": ("calibration", "record_certification"),
    "set_batch_status": ("queries", "set_batch_status"),
    "sync_trajectories": ("queries", "sync_trajectories"),
    "trajectories_frame": ("queries", "trajectories_frame"),
    "RANKING_PREFERENCE_COLUMNS": ("rankings", "RANKING_PREFERENCE_COLUMNS"),
    "ranking_preferences": ("rankings", "ranking_preferences"),
    "submit_ranking": ("rankings", "submit_ranking"),
    "RANKING_FLAGS": ("records", "RANKING_FLAGS"),
    "RUBRIC_KEYS": ("records", "RUBRIC_KEYS"),
    "CertificationRecord": ("records", "CertificationRecord"),
    "QueueItem": ("records", "QueueItem"),
    "RankingSubmission": ("records", "RankingSubmission"),
    "Submission": ("records", "Submission"),
    "SubmitResult": ("records", "SubmitResult"),
    "DEFAULT_URL": ("defaults", "DEFAULT_URL"),
    "Store": ("session", "Store"),
    "open_store": ("session", "open_store"),
    "upgrade_schema": ("session", "upgrade_schema"),
    "AlreadyAnnotatedError": ("submit", "AlreadyAnnotatedError"),
    "NotAssignedError": ("submit", "NotAssignedError"),
    "next_assignment": ("queue", "next_assignment"),
    "upcoming_assignments": ("queue", "upcoming_assignments"),
    "calibration_answers": ("calibration", "calibration_answers"),
    "record_certification_once": ("calibration", "record_certification_once"),
    "scored_batch_ids": ("calibration", "scored_batch_ids"),
    "annotator_batch_ids": ("progress", "annotator_batch_ids"),
    "assignment_progress": ("progress", "assignment_progress"),
    "is_batch_finished": ("progress", "is_batch_finished"),
    "pair_batch": ("progress", "pair_batch"),
    "assigned_ranking_set_ids": ("ranking_queue", "assigned_ranking_set_ids"),
    "next_ranking": ("ranking_queue", "next_ranking"),
    "ranking_set_members": ("ranking_queue", "ranking_set_members"),
    "rankings_waiting": ("ranking_queue", "rankings_waiting"),
    "CalibrationAnswer": ("records", "CalibrationAnswer"),
    "Progress": ("records", "Progress"),
    "RankingQueueItem": ("records", "RankingQueueItem"),
    "skip_assignment": ("submit", "skip_assignment"),
    "submit_annotation": ("submit", "submit_annotation"),
    "WorkSnapshot": ("work", "WorkSnapshot"),
    "annotator_work": ("work", "annotator_work"),
}

__all__ = [
    "ASSIGNMENT_EXTRA_COLUMNS",
    "CERTIFICATION_COLUMNS",
    "DEFAULT_URL",
    "RANKING_FLAGS",
    "RANKING_PREFERENCE_COLUMNS",
    "RUBRIC_KEYS",
    "TRAJECTORY_COLUMNS",
    "AlreadyAnnotatedError",
    "Base",
    "BatchStatus",
    "CalibrationAnswer",
    "CertificationRecord",
    "NotAssignedError",
    "Progress",
    "QueueItem",
    "RankingQueueItem",
    "RankingSubmission",
    "Role",
    "Store",
    "Submission",
    "SubmitResult",
    "WorkSnapshot",
    "add_annotator",
    "add_assignments",
    "annotations_frame",
    "annotator_batch_ids",
    "annotator_for_token",
    "annotator_work",
    "assigned_ranking_set_ids",
    "assignment_progress",
    "assignments_frame",
    "batch_annotator_ids",
    "batch_ids",
    "calibration_answers",
    "calibration_batch_ids",
    "certification_history",
    "count_annotations",
    "create_batch",
    "is_batch_finished",
    "is_certified",
    "issue_token",
    "load_batch",
    "next_assignment",
    "next_ranking",
    "open_store",
    "pair_batch",
    "pairs_frame",
    "ranking_preferences",
    "ranking_set_members",
    "rankings_waiting",
    "record_certification",
    "record_certification_once",
    "scored_batch_ids",
    "set_batch_status",
    "skip_assignment",
    "submit_annotation",
    "submit_ranking",
    "sync_trajectories",
    "trajectories_frame",
    "upcoming_assignments",
    "upgrade_schema",
]

__getattr__ = lazy_getattr(__name__, _WHERE)

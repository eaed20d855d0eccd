"""PostgreSQL: everything GET /api/next reads about one annotator, in one statement.

`annotator_work` on SQLite runs five small statements (certified, counts per batch, queue
entries, scored calibration sets, ranking sets waiting); on PostgreSQL each is a round
trip. Here they are one `SELECT` (one snapshot, too): the annotator's certification
picks the batch kinds served inside the statement (both lists come in), each open batch
of those kinds is one row with its counts, joined `LATERAL` to at most `limit` of its
open entries in queue order (an index range of `ix_assignments_queue`, read only for a
batch with open entries), and the scored batches and the ranking count ride along on
every row as uncorrelated subqueries (computed once).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from robopref.store.models import BatchStatus
from robopref.store.prepared import RawConnection
from robopref.store.queue import BatchCount

WORK_SQL = """
WITH me AS (
    SELECT COALESCE((SELECT certified FROM annotators WHERE annotator_id = %(annotator_id)s),
                    false) AS certified
), counts AS (
    SELECT c.batch_id, c.assigned, c.done, b.rubric, b.kind, b.created_at
    FROM assignment_counts AS c JOIN batches AS b ON b.batch_id = c.batch_id CROSS JOIN me
    WHERE c.annotator_id = %(annotator_id)s AND b.status = %(open)s
      AND b.kind = ANY(CASE WHEN me.certified THEN %(kinds_certified)s::varchar[]
                            ELSE %(kinds_uncertified)s::varchar[] END)
)
SELECT me.certified,
       ARRAY(SELECT t.calibration_batch_id FROM certification_attempts AS t
             WHERE t.annotator_id = %(annotator_id)s ORDER BY t.attempt_id) AS scored,
       (SELECT count(*) FROM ranking_assignments AS ra
        JOIN ranking_sets AS rs ON rs.ranking_set_id = ra.ranking_set_id
        JOIN batches AS rb ON rb.batch_id = rs.batch_id
        WHERE ra.annotator_id = %(annotator_id)s AND ra.completed = false
          AND rb.status = %(open)s) AS rankings,
       c.batch_id, c.assigned, c.done, c.rubric, c.kind,
       e.pair_id, e.left_trajectory_id, e.shown_at, e.task, e.trajectory_a_id,
       e.trajectory_b_id, e.clip_a, e.clip_b
FROM me
LEFT JOIN counts AS c ON true
LEFT JOIN LATERAL (
    SELECT a.pair_id, a.left_trajectory_id, a.shown_at, a.position, p.task,
           p.trajectory_a_id, p.trajectory_b_id, ta.clip_path AS clip_a, tb.clip_path AS clip_b
    FROM assignments AS a JOIN pairs AS p ON p.pair_id = a.pair_id
    LEFT JOIN trajectories AS ta ON ta.trajectory_id = p.trajectory_a_id
    LEFT JOIN trajectories AS tb ON tb.trajectory_id = p.trajectory_b_id
    WHERE a.annotator_id = %(annotator_id)s AND a.batch_id = c.batch_id
      AND a.completed = false AND a.skipped = false AND c.assigned > c.done
    ORDER BY a.position
    LIMIT %(limit)s
) AS e ON true
ORDER BY c.created_at, c.batch_id, e.position
"""
"""The read (psycopg's `%(name)s` parameters, see `read_work`)."""


class Entry(NamedTuple):
    """One open queue entry, with the columns `queue.read_queue`'s rows have."""

    pair_id: str
    left_trajectory_id: str
    shown_at: datetime | None
    task: str
    trajectory_a_id: str
    trajectory_b_id: str
    clip_a: str | None
    clip_b: str | None


class WorkRows(NamedTuple):
    """What `WORK_SQL` returned, sorted out."""

    certified: bool
    scored_batch_ids: tuple[str, ...]
    rankings_waiting: int
    counts: list[BatchCount]
    """The open batches of the kinds served, in queue order."""
    entries: dict[str, list[Entry]]
    """Batch id → its first open entries (at most `limit`), in queue order."""


def read_work(connection: RawConnection, annotator_id: str, *, kinds_certified: list[str],
              kinds_uncertified: list[str], limit: int) -> WorkRows:
    """Run `WORK_SQL` on an autocommit connection (`Store.raw_read(snapshot=False)`).

    Args:
        connection: The driver connection.
        annotator_id: Whose work.
        kinds_certified: Batch kinds served when the annotator is certified.
        kinds_uncertified: Batch kinds served when they are not.
        limit: Most entries read per batch (the next pair and those after it).
    """
    params: dict[str, Any] = {
        "annotator_id": annotator_id, "open": BatchStatus.OPEN.value, "limit": limit,
        "kinds_certified": kinds_certified, "kinds_uncertified": kinds_uncertified}
    rows = connection.execute(WORK_SQL, params).fetchall()
    counts: list[BatchCount] = []
    entries: dict[str, list[Entry]] = {}
    for row in rows:
        batch_id = row[3]
        if batch_id is None:  # no open batch of these kinds: the one row of `me`
            continue
        if batch_id not in entries:
            counts.append(BatchCount(str(batch_id), int(row[4]), int(row[5]), bool(row[6]),
                                     str(row[7])))
            entries[batch_id] = []
        if row[8] is not None:
            entries[batch_id].append(Entry(*row[8:16]))
    first = rows[0]
    return WorkRows(certified=bool(first[0]), scored_batch_ids=tuple(map(str, first[1])),
                    rankings_waiting=int(first[2]), counts=counts, entries=entries)

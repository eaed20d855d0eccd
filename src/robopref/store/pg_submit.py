"""PostgreSQL: a submit's whole transaction as one statement, committed by itself.

`submit_annotation` on SQLite runs the idempotency check, the assignment read, the
answer's insert and the counts in one transaction of several statements; on PostgreSQL
each statement is a round trip (about 0.1 ms of CPU on each side of the socket, plus
BEGIN and COMMIT). Here the same work is one data-modifying `WITH` statement run in
autocommit mode, so it commits (and, with `synchronous_commit` on, is flushed to the WAL)
before the reply, in one round trip:

1. the pair's deferred first showing (`store.shown`), if this process holds one, comes
   in as a parameter (the annotator's showings of other pairs wait for the flush);
2. the assignment and its pair are read and locked (`FOR UPDATE`, the latest version:
   a concurrent skip or answer is seen, as with the separate read of SQLite's path);
3. one outcome is decided in the order SQLite's path checks them: the key is stored
   already, the pair is not assigned, the left trajectory is not in the pair, the
   assignment is answered already, else the answer is created;
4. only for a created answer: the assignment's compare-and-set (with the showing), the
   answer's insert (from the row that update returned) and the counts (unless the pair
   was skipped, which counted it); for a stored answer the showing is written, and the
   answer gets it if it was stored without one (by another worker).

Nothing is written for the other outcomes: the caller puts the showing back and raises.
Every write names its row by the parameters (not only through a CTE), so the prepared
statement's generic plan reads it by primary key instead of walking the annotator's
assignments.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Literal, NamedTuple

from robopref.store.pending import Showings
from robopref.store.records import Submission
from robopref.store.session import Store
from robopref.types import Choice

Outcome = Literal["stored", "not_assigned", "bad_left", "already", "create"]

SUBMIT_SQL = """
WITH stored AS (
    SELECT 1 FROM annotations WHERE annotation_id = %(annotation_id)s
), target AS (
    SELECT a.pair_id, a.batch_id, a.skipped, a.completed, p.trajectory_a_id,
           p.trajectory_b_id, COALESCE(a.shown_at, %(shown_now)s::timestamptz) AS shown_at
    FROM assignments AS a JOIN pairs AS p ON p.pair_id = a.pair_id
    WHERE a.pair_id = %(pair_id)s AND a.annotator_id = %(annotator_id)s
    FOR UPDATE OF a
), verdict AS (
    SELECT CASE
        WHEN EXISTS (SELECT 1 FROM stored) THEN 'stored'
        WHEN t.pair_id IS NULL THEN 'not_assigned'
        WHEN %(left_trajectory_id)s NOT IN (t.trajectory_a_id, t.trajectory_b_id)
            THEN 'bad_left'
        WHEN t.completed THEN 'already'
        ELSE 'create' END AS outcome
    FROM (SELECT 1) AS one LEFT JOIN target AS t ON true
), done AS (
    UPDATE assignments AS a
    SET completed = true, completed_at = %(now)s, skipped = false, shown_at = t.shown_at
    FROM target AS t, verdict AS v
    WHERE v.outcome = 'create' AND a.pair_id = %(pair_id)s
      AND a.annotator_id = %(annotator_id)s AND a.completed = false
    RETURNING t.pair_id, t.batch_id, t.skipped, t.trajectory_a_id, t.trajectory_b_id,
              t.shown_at
), answer AS (
    INSERT INTO annotations (
        annotation_id, pair_id, trajectory_a_id, trajectory_b_id, annotator_id,
        preference, confidence, response_time_ms, free_text_reason, left_trajectory_id,
        rubric_answers, interface_version, idempotency_key, shown_at, created_at)
    SELECT %(annotation_id)s::varchar, d.pair_id, d.trajectory_a_id, d.trajectory_b_id,
           %(annotator_id)s::varchar, %(preference)s::varchar, %(confidence)s::smallint,
           %(response_time_ms)s::bigint, %(free_text_reason)s::text,
           %(left_trajectory_id)s::varchar, %(rubric_answers)s::json,
           %(interface_version)s::varchar, %(idempotency_key)s::varchar,
           COALESCE(%(shown_at)s::timestamptz, d.shown_at), %(now)s::timestamptz
    FROM done AS d
    RETURNING 1
), counted AS (
    UPDATE assignment_counts AS c SET done = c.done + 1
    FROM done AS d
    WHERE NOT d.skipped AND c.annotator_id = %(annotator_id)s AND c.batch_id = d.batch_id
    RETURNING 1
), stored_shown AS (
    UPDATE assignments AS a SET shown_at = %(shown_now)s::timestamptz
    FROM verdict AS v
    WHERE v.outcome = 'stored' AND %(shown_now)s::timestamptz IS NOT NULL
      AND a.pair_id = %(pair_id)s AND a.annotator_id = %(annotator_id)s
      AND a.shown_at IS NULL
    RETURNING 1
), answer_shown AS (
    UPDATE annotations AS n SET shown_at = %(shown_now)s::timestamptz
    FROM verdict AS v
    WHERE v.outcome = 'stored' AND %(shown_now)s::timestamptz IS NOT NULL
      AND n.annotator_id = %(annotator_id)s AND n.pair_id = %(pair_id)s
      AND n.shown_at IS NULL
    RETURNING 1
)
SELECT v.outcome, (SELECT count(*) FROM answer) AS inserted FROM verdict AS v
"""
"""The submit (psycopg's `%(name)s` parameters, see `submit_parameters`)."""


class SubmitOutcome(NamedTuple):
    """What the statement decided, and whether the answer's row went in."""

    outcome: Outcome
    inserted: bool


def submit_parameters(submission: Submission, choice: Choice, annotation_id: str,
                      showings: Showings, now: datetime) -> dict[str, object]:
    """The statement's parameters for one validated submission and its pair's showing.

    `showings`: what this process holds of the pair's first showing (`PendingShown.take_pair`).
    """
    shown_now = showings.get((submission.pair_id, submission.annotator_id))
    rubric = submission.rubric_answers
    return {
        "annotation_id": annotation_id, "pair_id": submission.pair_id,
        "annotator_id": submission.annotator_id, "preference": choice.value,
        "confidence": submission.confidence, "response_time_ms": submission.response_time_ms,
        "free_text_reason": submission.free_text_reason,
        "left_trajectory_id": submission.left_trajectory_id,
        "rubric_answers": None if rubric is None else json.dumps(dict(rubric)),
        "interface_version": submission.interface_version,
        "idempotency_key": submission.idempotency_key, "shown_at": submission.shown_at,
        "now": now, "shown_now": shown_now,
    }


def submit_in_one_statement(store: Store, parameters: dict[str, object]) -> SubmitOutcome:
    """Run `SUBMIT_SQL` (committed when it returns); driver errors come out as SQLAlchemy's.

    Raises:
        sqlalchemy.exc.IntegrityError: The answer's key is taken (stored meanwhile by a
            path this statement's checks did not see).
    """
    with store.raw_statement() as connection:
        row = connection.execute(SUBMIT_SQL, parameters).fetchone()
    outcome: Outcome = row[0]
    return SubmitOutcome(outcome, bool(row[1]))

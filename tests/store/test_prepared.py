"""`store.prepared`: statements on the driver's cursor read and write what SQLAlchemy would."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from robopref.store import Store
from robopref.store.models import Annotation, Assignment, Batch, Pair
from robopref.store.prepared import Prepared

_PAIRS = Prepared(
    select(Pair.pair_id, Pair.batch_id, Batch.rubric, Batch.created_at)
    .join(Batch, Batch.batch_id == Pair.batch_id)
    .where(Pair.pair_id.in_(bindparam("ids", expanding=True)), Batch.status == "open")
    .order_by(Pair.pair_id)
)
_SHOWN = Prepared(update(Assignment).where(Assignment.pair_id == bindparam("pair"))
                  .values(shown_at=bindparam("now")))
_SHOWN_AT = Prepared(select(Assignment.shown_at).where(Assignment.pair_id == bindparam("pair")))
_INSERT = Prepared(insert(Annotation).values({c: bindparam(c) for c in (
    "annotation_id", "pair_id", "trajectory_a_id", "trajectory_b_id", "annotator_id",
    "preference", "confidence", "response_time_ms", "left_trajectory_id", "rubric_answers",
    "idempotency_key", "created_at")}))


def _core(store: Store, ids: list[str]) -> list[tuple[object, ...]]:
    with store.read_rows() as connection:
        return [tuple(row) for row in connection.execute(_PAIRS.statement, {"ids": ids})]


@pytest.mark.parametrize("ids", [[], ["b1-p0"], ["b1-p0", "b1-p3", "nope"], ["b1-p2"] * 5])
def test_reads_match_sqlalchemy_for_every_in_list_length(filled: Store, ids: list[str]) -> None:
    with filled.raw_read() as connection:
        rows = _PAIRS.rows(connection, {"ids": ids})
    assert [tuple(row) for row in rows] == _core(filled, ids)
    assert all(isinstance(row.rubric, bool) and isinstance(row.created_at, datetime)
               for row in rows)


def test_writes_go_through_the_column_types_and_commit(filled: Store) -> None:
    now = datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    with filled.raw_write() as connection:
        assert _SHOWN.rowcount(connection, {"pair": "b1-p0", "now": now}) == 3
    with filled.raw_read(snapshot=False) as connection:
        stored = _SHOWN_AT.scalar(connection, {"pair": "b1-p0"})
    with filled.read_rows() as connection:
        assert stored == connection.scalar(_SHOWN_AT.statement, {"pair": "b1-p0"})
    assert stored.replace(tzinfo=stored.tzinfo or UTC) == now


def test_a_failed_write_is_rolled_back_and_raised_as_sqlalchemy_error(filled: Store) -> None:
    row = {"annotation_id": "x1", "pair_id": "b1-p0", "trajectory_a_id": "t00",
           "trajectory_b_id": "t01", "annotator_id": "ann-1", "preference": "A",
           "confidence": 3, "response_time_ms": 1000, "left_trajectory_id": "t00",
           "rubric_answers": {"success": "A"}, "idempotency_key": "k1",
           "created_at": datetime.now(UTC)}
    with filled.raw_write() as connection:
        _INSERT.rowcount(connection, row)
    with pytest.raises(IntegrityError), filled.raw_write() as connection:
        _INSERT.rowcount(connection, {**row, "annotation_id": "x2"})
        _INSERT.rowcount(connection, row)  # same primary key: the whole transaction goes
    with filled.read() as session:
        stored = session.scalars(select(Annotation)).all()
    assert [(a.annotation_id, a.rubric_answers) for a in stored] == [("x1", {"success": "A"})]


def test_reads_leave_the_pooled_connections_transactional_for_writes(filled: Store) -> None:
    for _ in range(12):  # more than the pool holds: every pooled connection read from once
        with filled.raw_read() as connection:
            assert _SHOWN_AT.scalars(connection, {"pair": "b1-p0"}) == [None] * 3
    now = datetime.now(UTC)
    with pytest.raises(IntegrityError), filled.raw_write() as connection:
        _SHOWN.rowcount(connection, {"pair": "b1-p0", "now": now})
        _INSERT.rowcount(connection, {  # a pair that does not exist
            "annotation_id": "x1", "pair_id": "nope", "trajectory_a_id": "t00",
            "trajectory_b_id": "t01", "annotator_id": "ann-1", "preference": "A",
            "confidence": 3, "response_time_ms": 1000, "left_trajectory_id": "t00",
            "rubric_answers": None, "idempotency_key": "k1", "created_at": now})
    with filled.raw_read(snapshot=False) as connection:
        assert _SHOWN_AT.scalars(connection, {"pair": "b1-p0"}) == [None] * 3  # rolled back

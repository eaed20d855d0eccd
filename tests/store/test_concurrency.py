"""Many threads and several processes submitting at once: no lost or doubled rows."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

from tests.store.conftest import make_batch

from robopref.store import (
    Store,
    Submission,
    annotations_frame,
    assignments_frame,
    create_batch,
    open_store,
    submit_annotation,
)
from robopref.types import Choice

ANNOTATORS = tuple(f"w{i}" for i in range(8))


def answer(annotator: str, pair_id: str, left: str, key: str) -> Submission:
    return Submission(annotator_id=annotator, pair_id=pair_id, preference=Choice.A,
                      confidence=3, response_time_ms=1000, left_trajectory_id=left,
                      idempotency_key=key)


def _work(store: Store) -> list[Submission]:
    frame = assignments_frame(store, "b2")
    return [answer(r.annotator_id, r.pair_id, r.left_trajectory_id, f"{r.annotator_id}-{r.pair_id}")
            for r in frame.itertuples()]


def test_threads_submitting_at_once_lose_and_double_nothing(filled: Store) -> None:
    create_batch(filled, make_batch("b2", ANNOTATORS))
    work = _work(filled)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda s: submit_annotation(filled, s), work + work))
    assert sum(r.created for r in results) == len(work)
    firsts = {r.annotation_id for r in results[: len(work)]}
    assert firsts == {r.annotation_id for r in results[len(work):]}
    frame = annotations_frame(filled, "b2")
    assert len(frame) == len(work) == frame.annotation_id.nunique()
    assert assignments_frame(filled, "b2")["completed"].all()


def test_one_key_from_many_threads_is_stored_once(filled: Store) -> None:
    twin = answer("ann-2", "b1-p3", "t03", "same-key")
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: submit_annotation(filled, twin), range(16)))
    assert sum(r.created for r in results) == 1
    assert len({r.annotation_id for r in results}) == 1
    assert len(annotations_frame(filled)) == 1


def test_different_keys_racing_for_one_pair_store_exactly_one(filled: Store) -> None:
    from robopref.store import AlreadyAnnotatedError

    def attempt(i: int) -> bool:
        try:
            return submit_annotation(filled, answer("ann-3", "b1-p4", "t04", f"k{i}")).created
        except AlreadyAnnotatedError:
            return False

    with ThreadPoolExecutor(8) as pool:
        created = list(pool.map(attempt, range(12)))
    assert sum(created) == 1
    assert len(annotations_frame(filled)) == 1


WORKER = textwrap.dedent(
    """
    import random
    import sys
    from robopref.store import Submission, assignments_frame, open_store, submit_annotation
    url, n = sys.argv[1], int(sys.argv[2])
    store = open_store(url, upgrade=False)
    created = 0
    rows = list(assignments_frame(store, "b2").itertuples())
    random.Random(n).shuffle(rows)  # each process walks the work in its own order
    for r in rows:
        s = Submission(annotator_id=r.annotator_id, pair_id=r.pair_id, preference="B",
                       confidence=2, response_time_ms=500, left_trajectory_id=r.left_trajectory_id,
                       idempotency_key=f"{r.annotator_id}-{r.pair_id}")
        created += submit_annotation(store, s).created
    print(created)
    """
)


def test_processes_submitting_at_once_lose_and_double_nothing(filled: Store) -> None:
    create_batch(filled, make_batch("b2", ANNOTATORS))
    procs = [
        subprocess.Popen([sys.executable, "-c", WORKER, filled.url, str(i)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(3)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in outputs]
    created = sum(int(out.strip()) for out, _ in outputs)
    n = len(assignments_frame(filled, "b2"))
    assert created == n
    reopened = open_store(filled.url, upgrade=False)
    assert len(annotations_frame(reopened, "b2")) == n
    reopened.dispose()

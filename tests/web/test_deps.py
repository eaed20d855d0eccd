"""The hot-path checks: the login check's TTL and the per-process assignment index."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from robopref.pairs.records import AssignmentSpec, PairBatch, PairSpec
from robopref.store import annotations_frame, create_batch
from robopref.store.models import Annotator
from robopref.types import BatchKind, PairKind, Stratum
from robopref.web import Settings, create_app
from robopref.web.login_check import LOGIN_CHECK_TTL_S, LoginCheck
from robopref.web.pair_index import PAIR_KIND, PairIndex
from robopref.web.signing import display_id

from .conftest import SECRET, Campaign

pytestmark = pytest.mark.usefixtures("certified")


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _answer(assignment_id: str, key: str) -> dict[str, Any]:
    return {"assignment_id": assignment_id, "choice": "left", "confidence": 3,
            "response_time_ms": 4000, "idempotency_key": key}


def _revoke_elsewhere(campaign: Campaign, annotator_id: str) -> None:
    """Revoke as another process would: a plain UPDATE, no ORM attribute event here."""
    with campaign.store.write() as session:
        session.execute(update(Annotator).where(Annotator.annotator_id == annotator_id)
                        .values(token_hash=None))


def test_a_token_revoked_elsewhere_is_401_after_the_ttl(
        app_client: TestClient, sign_in: Callable[..., Any], campaign: Campaign) -> None:
    clock = FakeClock()
    app_client.app.state.login_check = LoginCheck(  # type: ignore[attr-defined]
        campaign.store, SECRET, clock=clock)
    sign_in("ann-1")
    assert app_client.get("/api/next").status_code == 200
    _revoke_elsewhere(campaign, "ann-1")
    clock.now += LOGIN_CHECK_TTL_S * 0.5
    assert app_client.get("/api/next").status_code == 200  # trusted for the TTL, no read
    clock.now += LOGIN_CHECK_TTL_S * 0.6
    assert app_client.get("/api/next").status_code == 401
    assert app_client.get("/api/next").status_code == 401


def test_the_default_ttl_is_at_most_two_seconds() -> None:
    assert 0 < LOGIN_CHECK_TTL_S <= 2.0


def test_a_token_revoked_elsewhere_is_401_in_real_time(
        app_client: TestClient, sign_in: Callable[..., Any], campaign: Campaign) -> None:
    import time

    sign_in("ann-2")
    assert app_client.get("/api/next").status_code == 200
    _revoke_elsewhere(campaign, "ann-2")
    time.sleep(LOGIN_CHECK_TTL_S + 0.05)
    assert app_client.get("/api/next").status_code == 401


def test_a_new_worker_resolves_assignment_ids_it_never_handed_out(
        app_client: TestClient, sign_in: Callable[..., Any], campaign: Campaign) -> None:
    csrf = sign_in("ann-1")
    assignment_id = app_client.get("/api/next").json()["assignment"]["assignment_id"]
    settings = Settings(db_url=campaign.store.url, pool=campaign.pool, secret=SECRET)  # type: ignore[arg-type]
    with TestClient(create_app(settings)) as fresh:
        fresh.cookies.update(app_client.cookies)
        reply = fresh.post("/api/submit", json=_answer(assignment_id, "k1"), headers=csrf)
        assert reply.status_code == 200, reply.text
        assert fresh.post("/api/submit", json=_answer("f" * 24, "k2"),
                          headers=csrf).status_code == 403
    assert len(annotations_frame(campaign.store)) == 1


def _extra_batch(campaign: Campaign, annotator_id: str) -> str:
    ids = campaign.manifest["trajectory_id"].astype(str).tolist()
    pair = PairSpec(pair_id="late-pair", trajectory_a_id=ids[0], trajectory_b_id=ids[-1],
                    task=str(campaign.manifest["task"].iloc[0]), kind=PairKind.REGULAR,
                    stratum=Stratum.DISTANT, quartile_a=1, quartile_b=4)
    create_batch(campaign.store, PairBatch(
        batch_id="late", kind=BatchKind.PRODUCTION, pairs=(pair,),
        assignments=(AssignmentSpec(pair_id="late-pair", annotator_id=annotator_id,
                                    left_trajectory_id=ids[-1]),)))
    return "late-pair"


def test_a_pair_assigned_after_the_index_learned_the_caller_is_found(
        campaign: Campaign) -> None:
    index = PairIndex(campaign.store, SECRET)
    first = campaign.batch.assignments[0]
    owned = index.owned(first.annotator_id, index.assignment_id(first.pair_id))
    assert owned is not None and owned.pair_id == first.pair_id
    late = _extra_batch(campaign, first.annotator_id)
    owned = index.owned(first.annotator_id, display_id(SECRET, PAIR_KIND, late))
    assert owned is not None and owned.left_trajectory_id == campaign.manifest[
        "trajectory_id"].astype(str).tolist()[-1]


def test_another_annotators_pair_is_not_owned_even_when_indexed(campaign: Campaign) -> None:
    index = PairIndex(campaign.store, SECRET)
    theirs = index.assignment_id(campaign.batch.assignments[0].pair_id)
    assert index.owned("outsider", theirs) is None
    assert index.owned("outsider", "0" * 24) is None


def test_a_known_id_is_resolved_without_listing_the_callers_pairs(
        campaign: Campaign, monkeypatch: pytest.MonkeyPatch) -> None:
    import robopref.web.pair_index
    from robopref.store.assigned import assigned_pair_ids

    index = PairIndex(campaign.store, SECRET)
    first = campaign.batch.assignments[0]
    shown = index.assignment_id(first.pair_id)
    listed: list[str] = []

    def spy(store: Any, annotator_id: str) -> list[str]:
        listed.append(annotator_id)
        return assigned_pair_ids(store, annotator_id)

    monkeypatch.setattr(robopref.web.pair_index, "assigned_pair_ids", spy)
    assert index.owned(first.annotator_id, shown) is not None
    assert listed == []
    assert index.owned(first.annotator_id, "1" * 24) is None
    assert listed == [first.annotator_id]


def test_the_pair_just_served_is_owned_without_a_read(
        campaign: Campaign, monkeypatch: pytest.MonkeyPatch) -> None:
    import robopref.web.pair_index
    from robopref.store import next_assignment
    from robopref.store.assigned import assigned_pair

    index = PairIndex(campaign.store, SECRET)
    first = campaign.batch.assignments[0]
    item = next_assignment(campaign.store, first.annotator_id, mark_shown=False)
    assert item is not None
    read = assigned_pair(campaign.store, item.pair_id, first.annotator_id)
    reads: list[str] = []

    def spy(store: Any, pair_id: str, annotator_id: str) -> Any:
        reads.append(annotator_id)
        return assigned_pair(store, pair_id, annotator_id)

    monkeypatch.setattr(robopref.web.pair_index, "assigned_pair", spy)
    index.remember_served(first.annotator_id, item)
    shown = index.assignment_id(item.pair_id)
    assert index.owned(first.annotator_id, shown) == read  # the same pair, sides and batch
    assert reads == []
    assert index.owned("outsider", shown) is None  # served to someone else: read, refused
    assert reads == ["outsider"]

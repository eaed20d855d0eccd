"""Ranking over the API: the next set by opaque ids, ordered best first, flags, ownership."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from robopref.pairs import PairsConfig, select_ranking_sets
from robopref.store import RANKING_FLAGS, create_batch, ranking_preferences
from robopref.store.models import RankingItem
from robopref.web.schemas import RankingFlag

from .conftest import Campaign, certify


@pytest.fixture
def ranking_sets(campaign: Campaign) -> tuple[str, ...]:
    """Two ranking sets of 5 for ann-1 and ann-2 (both certified); ids of the sets."""
    batch = select_ranking_sets(campaign.manifest, PairsConfig(ranking_set_size=5,
                                                               annotators_per_pair=2),
                                annotator_ids=["ann-1", "ann-2"], n_sets=2)
    create_batch(campaign.store, batch)
    certify(campaign.store, "ann-1", "ann-2")
    return tuple(r.ranking_set_id for r in batch.ranking_sets)


def _body(ranking: dict[str, Any], **changes: Any) -> dict[str, Any]:
    order = [c["display_id"] for c in ranking["clips"]][::-1]
    body = {"ranking_id": ranking["ranking_id"], "order": order,
            "flags": {order[0]: ["latent_failure"], order[1]: []},
            "response_time_ms": 41_000, "idempotency_key": "rank-1"}
    return body | changes


def _next(client: TestClient) -> dict[str, Any]:
    reply = client.get("/api/ranking/next")
    assert reply.status_code == 200, reply.text
    ranking: dict[str, Any] = reply.json()["ranking"]
    return ranking


def test_the_flags_offered_are_the_stores() -> None:
    assert tuple(f.value for f in RankingFlag) == RANKING_FLAGS


def test_a_set_is_served_ranked_and_stored_with_flags(
    app_client: TestClient, sign_in: Callable[..., Any], campaign: Campaign,
    ranking_sets: tuple[str, ...],
) -> None:
    csrf = sign_in("ann-1")
    assert app_client.get("/api/next").json()["rankings_waiting"] == 2
    ranking = _next(app_client)
    assert ranking["remaining"] == 2 and ranking["flags"] == list(RANKING_FLAGS)
    assert len(ranking["clips"]) == 5 and len(ranking["ranking_id"]) == 24
    assert ranking["ranking_id"] not in ranking_sets
    reply = app_client.post("/api/ranking/submit", json=_body(ranking), headers=csrf)
    assert reply.status_code == 200 and reply.json() == {"created": True}
    again = app_client.post("/api/ranking/submit", json=_body(ranking), headers=csrf)
    assert again.json() == {"created": False}
    prefs = ranking_preferences(campaign.store)
    assert len(prefs) == 10 and set(prefs["annotator_id"]) == {"ann-1"}
    index = app_client.app.state.clip_index  # type: ignore[attr-defined]
    first, last = (index.trajectory_id(c["display_id"]) for c in (ranking["clips"][0],
                                                                  ranking["clips"][-1]))
    with campaign.store.read() as session:
        items = {t: (rank, flags) for t, rank, flags in session.execute(
            select(RankingItem.trajectory_id, RankingItem.rank, RankingItem.flags))}
    # the order sent reverses the presentation: the last clip shown is best, and flagged
    assert items[last] == (0, ["latent_failure"]) and items[first] == (4, None)
    assert sum(flags is not None for _, flags in items.values()) == 1
    following = _next(app_client)
    assert following["ranking_id"] != ranking["ranking_id"] and following["remaining"] == 1
    assert app_client.get("/api/next").json()["rankings_waiting"] == 1


def test_only_the_assigned_annotator_may_rank_a_set(
    app_client: TestClient, sign_in: Callable[..., Any], campaign: Campaign,
    ranking_sets: tuple[str, ...],
) -> None:
    sign_in("ann-1")
    ranking = _next(app_client)
    csrf = sign_in("outsider")
    assert app_client.get("/api/ranking/next").json() == {"ranking": None}  # not certified
    reply = app_client.post("/api/ranking/submit", json=_body(ranking), headers=csrf)
    assert reply.status_code == 403 and "ranking set" in reply.json()["detail"]
    forged = _body(ranking, ranking_id="0" * 24)
    csrf = sign_in("ann-1")
    assert app_client.post("/api/ranking/submit", json=forged, headers=csrf).status_code == 403
    assert app_client.post("/api/ranking/submit", json=_body(ranking)).status_code == 403  # CSRF
    assert ranking_preferences(campaign.store).empty


@pytest.mark.parametrize(("change", "field"), [
    (lambda order: {"order": order[:-1]}, "trajectory_ids"),
    (lambda order: {"order": [order[0], *order[:-1]]}, "trajectory_ids"),
    (lambda order: {"order": ["f" * 24, *order[1:]]}, "order"),
    (lambda order: {"flags": {"f" * 24: ["latent_failure"]}}, "flags"),
    (lambda order: {"flags": {order[0]: ["dropped_it"]}}, "flags"),
    (lambda order: {"response_time_ms": -1}, "response_time_ms"),
])
def test_bad_rankings_are_422_naming_the_field(
    app_client: TestClient, sign_in: Callable[..., Any], campaign: Campaign,
    ranking_sets: tuple[str, ...], change: Callable[[list[str]], dict[str, Any]], field: str,
) -> None:
    csrf = sign_in("ann-1")
    ranking = _next(app_client)
    body = _body(ranking)
    reply = app_client.post("/api/ranking/submit", json=body | change(body["order"]),
                            headers=csrf)
    assert reply.status_code == 422 and field in reply.text, reply.text
    assert ranking_preferences(campaign.store).empty


def test_no_ranking_before_certification(app_client: TestClient, sign_in: Callable[..., Any],
                                         campaign: Campaign) -> None:
    batch = select_ranking_sets(campaign.manifest, PairsConfig(ranking_set_size=5),
                                annotator_ids=["ann-1", "ann-2", "outsider"], n_sets=1)
    create_batch(campaign.store, batch)
    sign_in("ann-2")
    assert app_client.get("/api/ranking/next").json() == {"ranking": None}
    assert app_client.get("/api/next").json()["rankings_waiting"] == 0
    app_client.cookies.clear()
    assert app_client.get("/api/ranking/next").status_code == 401

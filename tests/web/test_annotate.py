"""The annotator API end to end: sign-in, next, submit, skip, ownership and CSRF."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from robopref.store import annotations_frame, assignments_frame

from .conftest import Campaign

pytestmark = pytest.mark.usefixtures("certified")  # ann-1 and ann-2 are served production


def _answer(assignment_id: str, **fields: Any) -> dict[str, Any]:
    body = {"assignment_id": assignment_id, "choice": "left", "confidence": 4,
            "response_time_ms": 5123, "idempotency_key": "k-1", "reason": "cleaner grasp",
            "rubric": {"success": True, "collisions": 0}}
    return body | fields


def _next(client: TestClient) -> dict[str, Any]:
    reply = client.get("/api/next")
    assert reply.status_code == 200, reply.text
    item: dict[str, Any] = reply.json()["assignment"]
    return item


def test_sign_in_sets_a_strict_httponly_expiring_cookie(app_client: TestClient,
                                                        campaign: Campaign) -> None:
    reply = app_client.post("/api/session", json={"token": campaign.tokens["ann-1"]})
    assert reply.status_code == 200
    cookie = reply.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "max-age=" in cookie
    assert reply.json()["annotator_id"] == "ann-1"
    assert app_client.get("/api/session").json()["csrf_token"] == reply.json()["csrf_token"]


def test_a_wrong_token_is_refused(app_client: TestClient) -> None:
    assert app_client.post("/api/session", json={"token": "nope"}).status_code == 401


def test_no_session_is_401(app_client: TestClient) -> None:
    assert app_client.get("/api/next").status_code == 401
    assert app_client.post("/api/submit", json=_answer("x")).status_code == 401


def test_a_forged_cookie_is_401(app_client: TestClient, sign_in: Callable[..., Any]) -> None:
    sign_in("ann-1")
    value = app_client.cookies["robopref_session"]
    forged = value[:-2] + ("00" if not value.endswith("00") else "11")
    app_client.cookies.clear()
    app_client.cookies.set("robopref_session", forged)
    assert app_client.get("/api/next").status_code == 401


def test_missing_or_wrong_csrf_is_403(app_client: TestClient, sign_in: Callable[..., Any],
                                      campaign: Campaign) -> None:
    sign_in("ann-1")
    item = _next(app_client)
    assert app_client.post("/api/submit", json=_answer(item["assignment_id"])).status_code == 403
    wrong = {"X-CSRF-Token": "0" * 64}
    reply = app_client.post("/api/submit", json=_answer(item["assignment_id"]), headers=wrong)
    assert reply.status_code == 403
    assert len(annotations_frame(campaign.store)) == 0


def test_submit_stores_one_row_with_presentation_order(app_client: TestClient,
                                                       sign_in: Callable[..., Any],
                                                       campaign: Campaign) -> None:
    csrf = sign_in("ann-1")
    item = _next(app_client)
    reply = app_client.post("/api/submit", json=_answer(item["assignment_id"]), headers=csrf)
    assert reply.status_code == 200
    assert reply.json() == {"created": True, "calibration_complete": False}
    rows = annotations_frame(campaign.store)
    assert len(rows) == 1
    row = rows.iloc[0]
    assignments = assignments_frame(campaign.store).set_index(["pair_id", "annotator_id"])
    left = assignments.loc[(row.pair_id, "ann-1"), "left_trajectory_id"]
    assert row.left_trajectory_id == left
    assert row.preference == ("A" if left == row.trajectory_a_id else "B")  # left was chosen
    assert row.response_time_ms == 5123 and row.confidence == 4
    assert row.free_text_reason == "cleaner grasp"
    assert _next(app_client)["assignment_id"] != item["assignment_id"]


def test_right_and_equal_map_back_to_a_b(app_client: TestClient, sign_in: Callable[..., Any],
                                         campaign: Campaign) -> None:
    csrf = sign_in("ann-2")
    for n, choice in enumerate(("right", "equal")):
        item = _next(app_client)
        body = _answer(item["assignment_id"], choice=choice, idempotency_key=f"k{n}")
        assert app_client.post("/api/submit", json=body, headers=csrf).status_code == 200
    rows = annotations_frame(campaign.store).sort_values("created_at")
    first = rows.iloc[0]
    right = first.trajectory_b_id if first.left_trajectory_id == first.trajectory_a_id \
        else first.trajectory_a_id
    assert first.preference == ("A" if right == first.trajectory_a_id else "B")
    assert rows.iloc[1].preference == "equal"


def test_the_same_idempotency_key_twice_stores_once(app_client: TestClient,
                                                    sign_in: Callable[..., Any],
                                                    campaign: Campaign) -> None:
    csrf = sign_in("ann-1")
    body = _answer(_next(app_client)["assignment_id"])
    first = app_client.post("/api/submit", json=body, headers=csrf)
    again = app_client.post("/api/submit", json=body, headers=csrf)
    assert first.json()["created"] and again.json()["created"] is False
    assert len(annotations_frame(campaign.store)) == 1


def test_another_key_for_an_answered_pair_is_409(app_client: TestClient,
                                                 sign_in: Callable[..., Any]) -> None:
    csrf = sign_in("ann-1")
    assignment_id = _next(app_client)["assignment_id"]
    app_client.post("/api/submit", json=_answer(assignment_id), headers=csrf)
    reply = app_client.post("/api/submit", json=_answer(assignment_id, idempotency_key="k-2"),
                            headers=csrf)
    assert reply.status_code == 409


def test_another_annotators_assignment_is_403(app_client: TestClient,
                                              sign_in: Callable[..., Any],
                                              campaign: Campaign) -> None:
    sign_in("ann-1")
    theirs = _next(app_client)["assignment_id"]
    csrf = sign_in("outsider")
    assert app_client.post("/api/submit", json=_answer(theirs), headers=csrf).status_code == 403
    skip = app_client.post("/api/skip", json={"assignment_id": theirs}, headers=csrf)
    assert skip.status_code == 403
    assert len(annotations_frame(campaign.store)) == 0
    empty = app_client.get("/api/next").json()
    assert empty["assignment"] is None and empty["phase"] == "waiting"


def test_skip_takes_the_pair_out_of_the_queue(app_client: TestClient,
                                              sign_in: Callable[..., Any]) -> None:
    csrf = sign_in("ann-1")
    first = _next(app_client)
    reply = app_client.post("/api/skip", json={"assignment_id": first["assignment_id"]},
                            headers=csrf)
    assert reply.status_code == 200
    after = _next(app_client)
    assert after["assignment_id"] != first["assignment_id"]
    assert after["remaining"] == first["remaining"] - 1


def test_bad_fields_are_422_naming_the_field(app_client: TestClient,
                                             sign_in: Callable[..., Any]) -> None:
    csrf = sign_in("ann-1")
    assignment_id = _next(app_client)["assignment_id"]
    for bad in ({"confidence": 6}, {"choice": "A"}, {"response_time_ms": -1},
                {"rubric": {"mood": 1}}):
        reply = app_client.post("/api/submit", json=_answer(assignment_id, **bad), headers=csrf)
        assert reply.status_code == 422, (bad, reply.text)
    assert "rubric_answers" in reply.json()["detail"]


def test_an_expired_session_is_401(app_client: TestClient) -> None:
    from robopref.web.signing import SessionData, sign_session

    from .conftest import SECRET

    expired = SessionData("ann-1", "annotator", time.time() - 1, "n0", "t0")
    app_client.cookies.set("robopref_session", sign_session(SECRET, expired))
    assert app_client.get("/api/next").status_code == 401


def test_sign_out_needs_csrf_and_ends_the_session(app_client: TestClient,
                                                  sign_in: Callable[..., Any]) -> None:
    csrf = sign_in("ann-1")
    assert app_client.delete("/api/session").status_code == 403
    assert app_client.delete("/api/session", headers=csrf).status_code == 200
    assert app_client.get("/api/next").status_code == 401


def test_a_replaced_token_ends_its_sessions(app_client: TestClient, sign_in: Callable[..., Any],
                                            campaign: Campaign) -> None:
    from robopref.store import issue_token

    sign_in("ann-1")
    assert app_client.get("/api/next").status_code == 200
    new = issue_token(campaign.store, "ann-1")
    assert app_client.get("/api/next").status_code == 401
    old = {"token": campaign.tokens["ann-1"]}
    assert app_client.post("/api/session", json=old).status_code == 401
    assert app_client.post("/api/session", json={"token": new}).status_code == 200
    assert app_client.get("/api/next").status_code == 200


def test_next_reports_phase_progress_and_prefetch(app_client: TestClient,
                                                  sign_in: Callable[..., Any],
                                                  campaign: Campaign) -> None:
    csrf = sign_in("ann-1")
    reply = app_client.get("/api/next").json()
    assert reply["phase"] == "production" and reply["progress"] == {"done": 0, "assigned": 6}
    assert reply["rankings_waiting"] == 0 and reply["feedback_available"] is False
    item = reply["assignment"]
    assert item["rubric"] is False and item["remaining"] == 6
    current = {item["left"]["clip_url"], item["right"]["clip_url"]}
    assert 2 <= len(reply["upcoming"]) <= 4 and all(u.startswith("/clips/")
                                                    for u in reply["upcoming"])
    app_client.post("/api/submit", json=_answer(item["assignment_id"]), headers=csrf)
    after = app_client.get("/api/next").json()
    assert after["progress"] == {"done": 1, "assigned": 6}
    following = {after["assignment"]["left"]["clip_url"], after["assignment"]["right"]["clip_url"]}
    assert following <= set(reply["upcoming"]) | current  # the prefetched pair came next
    assert all(u.startswith("/clips/") for u in after["upcoming"])


def test_an_annotator_not_certified_is_not_served_production(app_client: TestClient,
                                                             sign_in: Callable[..., Any],
                                                             campaign: Campaign) -> None:
    from sqlalchemy import update

    from robopref.store.models import Annotator

    with campaign.store.write() as session:
        session.execute(update(Annotator).where(Annotator.annotator_id == "ann-2")
                        .values(certified=False))
    sign_in("ann-2")
    reply = app_client.get("/api/next").json()
    assert reply["phase"] == "waiting" and reply["assignment"] is None
    assert reply["upcoming"] == [] and reply["rankings_waiting"] == 0


def test_a_rubric_batch_asks_the_rubric(app_client: TestClient, sign_in: Callable[..., Any],
                                        campaign: Campaign) -> None:
    from dataclasses import replace

    from robopref.store import create_batch

    batch = replace(campaign.batch, batch_id="rubric-batch", rubric=True,
                    pairs=tuple(replace(p, pair_id=f"r-{p.pair_id}") for p in campaign.batch.pairs),
                    assignments=tuple(replace(a, pair_id=f"r-{a.pair_id}")
                                      for a in campaign.batch.assignments
                                      if a.annotator_id == "ann-2"))
    create_batch(campaign.store, batch)
    csrf = sign_in("ann-2")
    for _ in range(6):  # the first batch, then the rubric one
        item = _next(app_client)
        assert item["rubric"] is False
        app_client.post("/api/skip", json={"assignment_id": item["assignment_id"]}, headers=csrf)
    assert _next(app_client)["rubric"] is True

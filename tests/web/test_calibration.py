"""Calibration over the API: served until certified, scored on the last answer, feedback."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from robopref.store import certification_history, pairs_frame

from .conftest import TRAINEE, Campaign


def _expert_side(client: TestClient, campaign: Campaign, item: dict[str, Any]) -> str:
    """The side the expert answer is shown on, for this annotator's view of the pair."""
    index = client.app.state.clip_index  # type: ignore[attr-defined]
    left = index.trajectory_id(item["left"]["display_id"])
    pairs = pairs_frame(campaign.store)
    pairs = pairs[pairs["kind"] == "calibration"]
    for row in pairs.itertuples():
        if left in (row.trajectory_a_id, row.trajectory_b_id) and \
                index.trajectory_id(item["right"]["display_id"]) in (row.trajectory_a_id,
                                                                      row.trajectory_b_id):
            better = row.trajectory_a_id if row.expected_preference == "A" else row.trajectory_b_id
            return "left" if better == left else "right"
    raise AssertionError("not a calibration pair")


def _take_set(client: TestClient, campaign: Campaign, csrf: dict[str, str], *,
              right: bool) -> list[dict[str, Any]]:
    """Answer the open calibration set; returns what was shown and chosen, in order."""
    taken = []
    for n in range(20):
        reply = client.get("/api/next").json()
        item = reply["assignment"]
        assert reply["phase"] == "calibration" and item is not None
        expert = _expert_side(client, campaign, item)
        choice = expert if right else {"left": "right", "right": "left"}[expert]
        body = {"assignment_id": item["assignment_id"], "choice": choice, "confidence": 4,
                "response_time_ms": 6000, "idempotency_key": f"{item['assignment_id']}-{n}"}
        submitted = client.post("/api/submit", json=body, headers=csrf)
        assert submitted.status_code == 200, submitted.text
        taken.append({"item": item, "choice": choice, "expert": expert})
        if submitted.json()["calibration_complete"]:
            again = client.post("/api/submit", json=body, headers=csrf).json()
            assert again == {"created": False, "calibration_complete": True}
            return taken
        assert reply["progress"]["done"] == n
    raise AssertionError("the set never completed")


def test_a_new_annotator_is_served_their_set_then_sees_feedback(
    app_client: TestClient, sign_in: Callable[..., Any], campaign: Campaign,
    calibration: tuple[str, ...],
) -> None:
    csrf = sign_in(TRAINEE)
    assert app_client.get("/api/calibration/feedback").status_code == 404
    first = app_client.get("/api/next").json()
    assert first["progress"] == {"done": 0, "assigned": 4} and not first["feedback_available"]
    assert first["rankings_waiting"] == 0
    taken = _take_set(app_client, campaign, csrf, right=True)
    assert len(taken) == 4
    after = app_client.get("/api/next").json()
    assert after["phase"] == "done" and after["assignment"] is None  # no production work yet
    assert after["feedback_available"]
    feedback = app_client.get("/api/calibration/feedback").json()
    assert feedback["passed"] and feedback["kappa"] == 1.0 and feedback["threshold"] == 0.65
    assert feedback["attempt"] == 1 and feedback["next"] == "production"
    assert [(i["left"], i["right"]) for i in feedback["items"]] == \
        [(t["item"]["left"], t["item"]["right"]) for t in taken]  # sides as shown
    for item, took in zip(feedback["items"], taken, strict=True):
        assert item["your_choice"] == took["choice"] == item["expert_choice"] and item["agreed"]
        assert "the better clip" in item["rationale"].lower()
        assert item["task"] == took["item"]["task"]


def test_a_failed_set_is_followed_by_the_second_then_no_more(
    app_client: TestClient, sign_in: Callable[..., Any], campaign: Campaign,
    calibration: tuple[str, ...],
) -> None:
    csrf = sign_in(TRAINEE)
    _take_set(app_client, campaign, csrf, right=False)
    feedback = app_client.get("/api/calibration/feedback").json()
    assert not feedback["passed"] and feedback["next"] == "second_set"
    assert not any(i["agreed"] for i in feedback["items"])
    assert all(i["your_choice"] != i["expert_choice"] for i in feedback["items"])
    second = app_client.get("/api/next").json()
    assert second["phase"] == "calibration" and second["progress"] == {"done": 0, "assigned": 4}
    assert second["feedback_available"]
    _take_set(app_client, campaign, csrf, right=False)
    feedback = app_client.get("/api/calibration/feedback").json()
    assert feedback["attempt"] == 2 and feedback["next"] == "no_more_sets"
    waiting = app_client.get("/api/next").json()
    assert waiting["phase"] == "waiting" and waiting["assignment"] is None
    history = certification_history(campaign.store, TRAINEE)
    assert list(history["calibration_batch_id"]) == list(calibration)


def test_skipping_the_last_pair_also_finishes_the_set(
    app_client: TestClient, sign_in: Callable[..., Any], campaign: Campaign,
    calibration: tuple[str, ...],
) -> None:
    csrf = sign_in(TRAINEE)
    for _ in range(4):
        item = app_client.get("/api/next").json()["assignment"]
        app_client.post("/api/skip", json={"assignment_id": item["assignment_id"]}, headers=csrf)
    feedback = app_client.get("/api/calibration/feedback").json()
    assert feedback["items"] == [] and not feedback["passed"]  # nothing answered: no expert
    assert feedback["next"] == "second_set"


def test_feedback_is_each_annotators_own(app_client: TestClient, sign_in: Callable[..., Any],
                                         campaign: Campaign,
                                         calibration: tuple[str, ...]) -> None:
    csrf = sign_in(TRAINEE)
    _take_set(app_client, campaign, csrf, right=True)
    sign_in("ann-1")
    assert app_client.get("/api/calibration/feedback").status_code == 404
    app_client.cookies.clear()
    assert app_client.get("/api/calibration/feedback").status_code == 401

"""Admin batches and plots: stratified, calibration and ranking batches, closing, PNGs."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from robopref.store import add_annotator, assignments_frame, pairs_frame, record_certification

from .conftest import Campaign

ADMIN = "lead"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def admin(campaign: Campaign, sign_in: Callable[[str], dict[str, str]]) -> dict[str, str]:
    """The client signed in as an admin; ann-1 and ann-2 certified."""
    campaign.tokens[ADMIN] = add_annotator(campaign.store, ADMIN, "admin")
    for annotator_id in ("ann-1", "ann-2"):
        record_certification(campaign.store, annotator_id=annotator_id,
                             calibration_batch_id=campaign.batch.batch_id, kappa=0.9, passed=True)
    return sign_in(ADMIN)


def _batches(client: TestClient) -> dict[str, dict[str, object]]:
    return {b["batch_id"]: b for b in client.get("/api/admin/overview").json()["batches"]}


def test_a_stratified_batch_goes_to_certified_annotators_with_new_pairs(
    app_client: TestClient, admin: dict[str, str], campaign: Campaign
) -> None:
    reply = app_client.post("/api/admin/batches", json={"kind": "stratified", "size": 4,
                                                        "rubric": True}, headers=admin)
    assert reply.status_code == 200, reply.text
    created = reply.json()
    assert created["pairs"] == 4 and created["kind"] == "production"
    assigned = assignments_frame(campaign.store, created["batch_id"])
    assert set(assigned["annotator_id"]) == {"ann-1", "ann-2"}
    pairs = pairs_frame(campaign.store)
    keys = [frozenset(p) for p in zip(pairs["trajectory_a_id"], pairs["trajectory_b_id"],
                                      strict=True)]
    assert len(keys) == len(set(keys)), "a pair was drawn twice"
    row = _batches(app_client)[created["batch_id"]]
    assert row == row | {"kind": "production", "status": "open", "rubric": True, "pairs": 4,
                         "assigned": created["assignments"], "done": 0}


def test_batch_requests_name_the_field_at_fault(app_client: TestClient,
                                                admin: dict[str, str]) -> None:
    cases = [
        ({"kind": "stratified", "size": 2, "annotator_ids": ["ann-1", "ghost"]}, "annotator_ids"),
        ({"kind": "stratified", "size": 2, "annotator_ids": ["ann-1"]}, "annotator_ids"),
        ({"kind": "active", "size": 2}, "kind"),
        ({"kind": "stratified", "size": 0}, "size"),
        ({"kind": "stratified", "size": 2, "surprise": 1}, "surprise"),
    ]
    for body, field in cases:
        reply = app_client.post("/api/admin/batches", json=body, headers=admin)
        assert reply.status_code == 422 and field in reply.text, (body, reply.text)


def test_a_calibration_set_carries_rationales_and_waits_for_annotators(
    app_client: TestClient, admin: dict[str, str], campaign: Campaign
) -> None:
    reply = app_client.post("/api/admin/batches", json={"kind": "calibration", "size": 3},
                            headers=admin)
    assert reply.status_code == 200, reply.text
    first = reply.json()
    assert first["kind"] == "calibration" and first["pairs"] == 3 and first["assignments"] == 0
    second = app_client.post("/api/admin/batches", json={
        "kind": "calibration", "size": 3, "annotator_ids": ["outsider"]}, headers=admin).json()
    assert second["assignments"] == 3
    pairs = pairs_frame(campaign.store)
    sets = [pairs[pairs["batch_id"] == b["batch_id"]] for b in (first, second)]
    keys = [{frozenset(p) for p in zip(s["trajectory_a_id"], s["trajectory_b_id"], strict=True)}
            for s in sets]
    assert not keys[0] & keys[1], "the second set repeats pairs of the first"
    assert all(s["expected_preference"].notna().all() for s in sets)


def test_a_ranking_batch_deals_sets_to_the_annotators(app_client: TestClient,
                                                      admin: dict[str, str]) -> None:
    reply = app_client.post("/api/admin/batches", json={
        "kind": "ranking", "size": 2, "clips_per_set": 5, "seed": 3}, headers=admin)
    assert reply.status_code == 200, reply.text
    created = reply.json()
    assert created["kind"] == "ranking" and created["pairs"] == 2 and created["assignments"] == 4
    again = app_client.post("/api/admin/batches", json={
        "kind": "ranking", "size": 2, "clips_per_set": 5, "seed": 3}, headers=admin)
    assert again.status_code == 422 and again.json()["detail"].startswith("seed:")


def test_closing_a_batch_stops_its_queue(app_client: TestClient, admin: dict[str, str],
                                         campaign: Campaign,
                                         sign_in: Callable[[str], dict[str, str]]) -> None:
    batch_id = campaign.batch.batch_id
    reply = app_client.post(f"/api/admin/batches/{batch_id}/close", headers=admin)
    assert reply.json() == {"batch_id": batch_id, "status": "closed"}
    assert _batches(app_client)[batch_id]["status"] == "closed"
    assert app_client.post("/api/admin/batches/nope/close", headers=admin).status_code == 404
    sign_in("ann-1")
    assert app_client.get("/api/next").json()["assignment"] is None


@pytest.mark.parametrize("name", ["throughput", "qa", "tiers", "response_times"])
def test_plots_are_pngs(app_client: TestClient, admin: dict[str, str], name: str) -> None:
    reply = app_client.get(f"/api/admin/plots/{name}.png")
    assert reply.status_code == 200 and reply.headers["content-type"] == "image/png"
    assert reply.content.startswith(PNG) and len(reply.content) > 2000


def test_an_unknown_plot_is_404(app_client: TestClient, admin: dict[str, str]) -> None:
    assert app_client.get("/api/admin/plots/secrets.png").status_code == 404


def test_a_new_annotator_gets_the_first_calibration_set(app_client: TestClient,
                                                        admin: dict[str, str],
                                                        campaign: Campaign) -> None:
    none_yet = app_client.post("/api/admin/annotators", json={"annotator_id": "early"},
                               headers=admin).json()
    assert none_yet["calibration_batch_id"] is None
    first = app_client.post("/api/admin/batches", json={"kind": "calibration", "size": 3},
                            headers=admin).json()
    app_client.post("/api/admin/batches", json={"kind": "calibration", "size": 3},
                    headers=admin)
    new = app_client.post("/api/admin/annotators", json={"annotator_id": "new-1"},
                          headers=admin).json()
    assert new["created"] and new["calibration_batch_id"] == first["batch_id"]
    assigned = assignments_frame(campaign.store)
    assert set(assigned.loc[assigned["annotator_id"] == "new-1", "batch_id"]) == {
        first["batch_id"]}
    boss = app_client.post("/api/admin/annotators", json={"annotator_id": "boss",
                                                          "role": "admin"}, headers=admin).json()
    assert boss["calibration_batch_id"] is None
    rows = {a["annotator_id"]: a for a in app_client.get("/api/admin/overview").json()
            ["annotators"]}
    assert rows["new-1"]["phase"] == "calibration" and rows["boss"]["phase"] == "admin"

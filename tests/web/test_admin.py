"""The admin API: admins only, CSRF on writes, verbatim reasons, export, tokens, exclusions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from robopref.pairs import AssignmentSpec
from robopref.schemas import PREFERENCES_TABLE
from robopref.store import Submission, add_annotator, add_assignments, submit_annotation
from robopref.tables import read_table_file
from robopref.web.deps import CSRF_HEADER

from .conftest import Campaign

ADMIN = "lead"
SCRIPT = '<script>alert("x")</script> & <b>bold</b>'

READS = [
    ("GET", "/api/admin/overview", None),
    ("GET", "/api/admin/pairs/any-pair", None),
    ("GET", "/api/admin/export/preferences.parquet", None),
    ("GET", "/api/admin/export/preferences.jsonl", None),
    *[("GET", f"/api/admin/plots/{name}.png", None)
      for name in ("throughput", "qa", "tiers", "response_times")],
]
WRITES = [
    ("POST", "/api/admin/annotators", {"annotator_id": "new-1"}),
    ("POST", "/api/admin/annotators/ann-2/token", None),
    ("DELETE", "/api/admin/annotators/ann-2/token", None),
    ("POST", "/api/admin/annotators/ann-2/exclusion", {"excluded": True}),
    ("POST", "/api/admin/batches", {"kind": "stratified", "size": 2}),
    ("POST", "/api/admin/batches/any-batch/close", None),
]


@pytest.fixture
def admin(campaign: Campaign, sign_in: Callable[[str], dict[str, str]]) -> dict[str, str]:
    """The client signed in as an admin; returns the CSRF header."""
    campaign.tokens[ADMIN] = add_annotator(campaign.store, ADMIN, "admin")
    return sign_in(ADMIN)


def _call(client: TestClient, method: str, path: str, body: Any,
          headers: dict[str, str] | None = None) -> Any:
    return client.request(method, path, json=body, headers=headers or {})


def _answer(campaign: Campaign, annotator_id: str, pair_id: str, preference: str,
            reason: str | None = None) -> None:
    pair = next(p for p in campaign.batch.pairs if p.pair_id == pair_id)
    submit_annotation(campaign.store, Submission(
        annotator_id=annotator_id, pair_id=pair_id, preference=preference, confidence=4,
        response_time_ms=8000, left_trajectory_id=pair.trajectory_a_id,
        idempotency_key=f"{annotator_id}-{pair_id}", free_text_reason=reason))


def _answer_all(campaign: Campaign, *, outsider: bool) -> None:
    """ann-1 and ann-2 agree on every pair (A, B alternating); the outsider always disagrees."""
    pairs = [p.pair_id for p in campaign.batch.pairs]
    if outsider:
        add_assignments(campaign.store, campaign.batch.batch_id, tuple(
            AssignmentSpec(pair_id=p.pair_id, annotator_id="outsider",
                           left_trajectory_id=p.trajectory_a_id) for p in campaign.batch.pairs))
    for n, pair_id in enumerate(pairs):
        agreed, other = ("A", "B") if n % 2 else ("B", "A")
        for annotator_id in ("ann-1", "ann-2"):
            _answer(campaign, annotator_id, pair_id, agreed)
        if outsider:
            _answer(campaign, "outsider", pair_id, other)


@pytest.mark.parametrize(("method", "path", "body"), READS + WRITES)
def test_every_admin_route_is_401_without_a_session(app_client: TestClient, method: str,
                                                    path: str, body: Any) -> None:
    assert _call(app_client, method, path, body).status_code == 401


@pytest.mark.parametrize(("method", "path", "body"), READS + WRITES)
def test_every_admin_route_is_403_for_an_annotator(
    app_client: TestClient, sign_in: Callable[[str], dict[str, str]], method: str, path: str,
    body: Any,
) -> None:
    csrf = sign_in("ann-1")
    reply = _call(app_client, method, path, body, csrf)
    assert reply.status_code == 403, reply.text
    assert "admin" in reply.json()["detail"]


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_admin_writes_without_csrf_are_403_and_change_nothing(
    app_client: TestClient, admin: dict[str, str], campaign: Campaign, method: str, path: str,
    body: Any,
) -> None:
    before = app_client.get("/api/admin/overview").json()
    wrong = {CSRF_HEADER: "0" * 64}
    for headers in ({}, wrong):
        reply = _call(app_client, method, path, body, headers)
        assert reply.status_code == 403 and CSRF_HEADER in reply.json()["detail"]
    after = app_client.get("/api/admin/overview").json()
    assert before["annotators"] == after["annotators"] and before["batches"] == after["batches"]


def test_replies_are_not_cached(app_client: TestClient, admin: dict[str, str]) -> None:
    assert app_client.get("/api/admin/overview").headers["cache-control"] == "no-store"
    reply = app_client.post("/api/admin/annotators", json={"annotator_id": "new-1"},
                            headers=admin)
    assert reply.headers["cache-control"] == "no-store"


def test_a_script_reason_is_returned_verbatim_as_data(app_client: TestClient,
                                                      admin: dict[str, str],
                                                      campaign: Campaign) -> None:
    pair_id = campaign.batch.pairs[0].pair_id
    _answer(campaign, "ann-1", pair_id, "A", reason=SCRIPT)
    reply = app_client.get(f"/api/admin/pairs/{pair_id}")
    assert reply.status_code == 200 and reply.headers["content-type"] == "application/json"
    detail = reply.json()
    assert [a["reason"] for a in detail["annotations"]] == [SCRIPT]
    assert detail["trajectory_a_id"] == campaign.batch.pairs[0].trajectory_a_id
    reasons = app_client.get("/api/admin/overview").json()["reasons"]
    assert reasons[0]["reason"] == SCRIPT and reasons[0]["pair_id"] == pair_id
    assert app_client.get("/api/admin/pairs/no-such-pair").status_code == 404


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_export_round_trips_through_the_preferences_reader(
    app_client: TestClient, admin: dict[str, str], campaign: Campaign, tmp_path: Path, fmt: str
) -> None:
    _answer_all(campaign, outsider=False)
    reply = app_client.get(f"/api/admin/export/preferences.{fmt}")
    assert reply.status_code == 200
    assert f'filename="preferences.{fmt}"' in reply.headers["content-disposition"]
    path = tmp_path / f"preferences.{fmt}"
    path.write_bytes(reply.content)
    frame = read_table_file(path, PREFERENCES_TABLE)
    pairs = {p.pair_id: n for n, p in enumerate(campaign.batch.pairs)}
    assert sorted(frame["pair_id"]) == sorted(pairs)
    for row in frame.to_dict("records"):
        assert row["preference"] == (1.0 if pairs[row["pair_id"]] % 2 else 0.0)
        assert sorted(row["annotator_ids"]) == ["ann-1", "ann-2"]
    assert app_client.get("/api/admin/export/preferences.csv").status_code == 404


def test_an_excluded_annotator_drops_out_of_export_and_alpha(
    app_client: TestClient, admin: dict[str, str], campaign: Campaign
) -> None:
    _answer_all(campaign, outsider=True)
    qa = app_client.get("/api/admin/overview").json()["qa"]
    assert qa["alpha"] < 0.5 and qa["alpha_without_excluded"] == qa["alpha"]
    assert qa["excluded"] == []
    reply = app_client.post("/api/admin/annotators/outsider/exclusion",
                            json={"excluded": True}, headers=admin)
    assert reply.json() == {"annotator_id": "outsider", "excluded": True}
    overview = app_client.get("/api/admin/overview").json()
    assert overview["qa"]["alpha_without_excluded"] == 1.0
    assert overview["qa"]["alpha"] == qa["alpha"]
    assert overview["qa"]["excluded"] == overview["qa"]["excluded_by_lead"] == ["outsider"]
    assert {a["annotator_id"]: a["excluded"] for a in overview["annotators"]}["outsider"]
    lines = app_client.get("/api/admin/export/preferences.jsonl").text.splitlines()
    assert lines and all('"outsider"' not in line for line in lines)
    app_client.post("/api/admin/annotators/outsider/exclusion", json={"excluded": False},
                    headers=admin)
    lines = app_client.get("/api/admin/export/preferences.jsonl").text.splitlines()
    assert all('"outsider"' in line for line in lines)


def test_revoking_a_token_ends_the_live_session(
    app_client: TestClient, admin: dict[str, str], campaign: Campaign
) -> None:
    with TestClient(app_client.app) as annotator:
        annotator.post("/api/session", json={"token": campaign.tokens["ann-2"]})
        assert annotator.get("/api/next").status_code == 200
        reply = app_client.delete("/api/admin/annotators/ann-2/token", headers=admin)
        assert reply.status_code == 200
        assert annotator.get("/api/next").status_code == 401
        signed = annotator.post("/api/session", json={"token": campaign.tokens["ann-2"]})
        assert signed.status_code == 401
    row = {a["annotator_id"]: a for a in app_client.get("/api/admin/overview").json()
           ["annotators"]}["ann-2"]
    assert row["has_token"] is False
    assert app_client.delete("/api/admin/annotators/nobody/token",
                             headers=admin).status_code == 404
    assert app_client.delete(f"/api/admin/annotators/{ADMIN}/token",
                             headers=admin).status_code == 409


def test_adding_an_annotator_shows_a_token_once_and_reissuing_replaces_it(
    app_client: TestClient, admin: dict[str, str]
) -> None:
    first = app_client.post("/api/admin/annotators", json={"annotator_id": "new-1"},
                            headers=admin).json()
    assert first["created"] is True and first["annotator_id"] == "new-1"
    again = app_client.post("/api/admin/annotators", json={"annotator_id": "new-1"},
                            headers=admin).json()
    assert again["created"] is False and again["token"] != first["token"]
    with TestClient(app_client.app) as other:
        assert other.post("/api/session", json={"token": first["token"]}).status_code == 401
        signed = other.post("/api/session", json={"token": again["token"]})
        assert signed.status_code == 200 and signed.json()["role"] == "annotator"
    clash = app_client.post("/api/admin/annotators",
                            json={"annotator_id": "new-1", "role": "admin"}, headers=admin)
    assert clash.status_code == 422 and clash.json()["detail"].startswith("role:")
    bad = app_client.post("/api/admin/annotators", json={"annotator_id": "a b\x00"},
                          headers=admin)
    assert bad.status_code == 422 and "annotator_id" in bad.text
    row = {a["annotator_id"]: a for a in app_client.get("/api/admin/overview").json()
           ["annotators"]}["new-1"]
    assert row["has_token"] and row["role"] == "annotator" and not row["certified"]


def test_reissue_needs_an_existing_annotator(app_client: TestClient,
                                             admin: dict[str, str]) -> None:
    assert app_client.post("/api/admin/annotators/nobody/token",
                           headers=admin).status_code == 404
    reply = app_client.post("/api/admin/annotators/ann-1/token", headers=admin)
    assert reply.status_code == 200 and reply.json()["created"] is False

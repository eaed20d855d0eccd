"""GET /api/admin/overview: what the dashboard shows, in people's units."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from robopref.quality import QAConfig
from robopref.store import Submission, add_annotator, record_certification, submit_annotation
from robopref.web.dashboard.flags import flag_rows

from .conftest import Campaign

ADMIN = "lead"


@pytest.fixture
def admin(campaign: Campaign, sign_in: Callable[[str], dict[str, str]]) -> dict[str, str]:
    """The client signed in as an admin."""
    campaign.tokens[ADMIN] = add_annotator(campaign.store, ADMIN, "admin")
    return sign_in(ADMIN)


def _answer_first(campaign: Campaign, k: int) -> None:
    for n, pair in enumerate(campaign.batch.pairs[:k]):
        for annotator_id, choice in (("ann-1", "A"), ("ann-2", "A" if n % 2 else "B")):
            submit_annotation(campaign.store, Submission(
                annotator_id=annotator_id, pair_id=pair.pair_id, preference=choice,
                confidence=4, response_time_ms=12_345 + n, idempotency_key=f"{annotator_id}{n}",
                left_trajectory_id=pair.trajectory_a_id))


def test_an_empty_campaign_has_an_overview(app_client: TestClient,
                                           admin: dict[str, str]) -> None:
    reply = app_client.get("/api/admin/overview")
    assert reply.status_code == 200, reply.text
    data = reply.json()
    assert data["throughput_target_per_hour"] == [40, 60]
    assert data["qa"] | {"alpha": None, "gold_accuracy": None, "annotations": 0} == data["qa"]
    assert data["qa"]["alpha_target"] == 0.55 and data["disagreement"] == []
    phases = {a["annotator_id"]: a["phase"] for a in data["annotators"]}
    assert phases == {"ann-1": "waiting", "ann-2": "waiting", "outsider": "waiting",
                      ADMIN: "admin"}
    assert data["plots"] == [f"/api/admin/plots/{n}.png"
                             for n in ("throughput", "qa", "tiers", "response_times")]


def test_progress_phases_times_and_disagreement(app_client: TestClient, admin: dict[str, str],
                                                campaign: Campaign) -> None:
    record_certification(campaign.store, annotator_id="ann-1",
                         calibration_batch_id=campaign.batch.batch_id, kappa=0.8, passed=True)
    _answer_first(campaign, 4)
    data = app_client.get("/api/admin/overview").json()
    [batch] = data["batches"]
    assert (batch["pairs"], batch["assigned"], batch["done"]) == (6, 12, 8)
    rows = {a["annotator_id"]: a for a in data["annotators"]}
    one = rows["ann-1"]
    assert one["phase"] == "production" and one["certified"] and (one["done"], one["assigned"]) \
        == (4, 6)
    assert one["median_response_ms"] == 12_346 and one["median_response_s"] == 12.3
    assert one["last_active"] is not None and pd.Timestamp(one["last_active"]).tzinfo is not None
    assert rows["ann-2"]["phase"] == "waiting"
    rows_d = data["disagreement"]
    assert sum(r["pairs"] for r in rows_d) == 4
    assert sum(r["pairs"] * r["disagreement"] for r in rows_d) == pytest.approx(2)
    assert [r["disagreement"] for r in rows_d] == sorted((r["disagreement"] for r in rows_d),
                                                         reverse=True)
    assert {r["task"] for r in rows_d} == {campaign.batch.pairs[0].task}
    assert all(r["quartiles"].startswith("q") for r in rows_d)
    assert data["qa"]["annotations"] == 8 and data["qa"]["fast_fraction"] == 0.0


def test_flags_say_what_they_rest_on() -> None:
    stats = pd.DataFrame({
        "flags": ["fast,outlier:log_response_time", ""], "fast_fraction": [0.5, 0.0],
        "n_annotations": [40, 40], "gold_accuracy": [0.9, 0.9], "self_consistency": [1.0, 1.0],
        "majority_agreement": [0.8, 0.8], "left_fraction": [0.5, 0.5],
        "mean_response_time_ms": [1500.0, 21_000.0],
    }, index=pd.Index(["quick", "calm"], name="annotator_id"))
    fast, outlier = flag_rows(stats, QAConfig())
    assert (fast.annotator_id, fast.flag) == ("quick", "fast")
    assert fast.detail == "50% of 40 answers under 3 s (limit 20%)"
    assert outlier.detail.startswith("mean response time 1.5 s, against 21.0 s")

"""GET /api/next writes nothing: a pair's first showing goes with the answer's commit."""

from __future__ import annotations

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from robopref.store import annotations_frame, assignments_frame
from robopref.web import Settings, create_app

from .conftest import SECRET, Campaign

pytestmark = pytest.mark.usefixtures("certified")


def _shown(campaign: Campaign, annotator: str) -> pd.Series:
    frame = assignments_frame(campaign.store)
    return frame[frame.annotator_id == annotator].set_index("pair_id").shown_at


def test_showings_land_with_the_answer_or_when_the_server_stops(
        campaign: Campaign) -> None:
    settings = Settings(db_url=campaign.store.url, pool=campaign.pool,  # type: ignore[arg-type]
                        secret=SECRET)
    with TestClient(create_app(settings)) as client:
        token = client.post("/api/session", json={"token": campaign.tokens["ann-1"]}).json()
        csrf = {"X-CSRF-Token": token["csrf_token"]}
        first = client.get("/api/next").json()["assignment"]["assignment_id"]
        assert _shown(campaign, "ann-1").isna().all()  # shown, not committed
        answer = {"assignment_id": first, "choice": "right", "confidence": 4,
                  "response_time_ms": 5000, "idempotency_key": "k1"}
        assert client.post("/api/submit", json=answer, headers=csrf).status_code == 200
        shown = _shown(campaign, "ann-1")
        assert shown.notna().sum() == 1  # committed with the answer, which carries it
        assert annotations_frame(campaign.store).shown_at.tolist() == shown.dropna().tolist()
        client.get("/api/next")  # the next pair: shown, still waiting
        assert _shown(campaign, "ann-1").notna().sum() == 1
    assert _shown(campaign, "ann-1").notna().sum() == 2  # written when the server stopped


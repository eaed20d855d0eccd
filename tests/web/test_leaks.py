"""Nothing the annotator receives names a trajectory id, source, tier, pair, batch or answer.

Two whole sessions are walked as the browser sees them: a certified annotator's production
work (pairs, skip, clips, rankings, a feedback request) and a trainee's calibration set.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from robopref.pairs import PairsConfig, select_ranking_sets
from robopref.store import create_batch, pairs_frame

from .conftest import TRAINEE, Campaign, certify

VOCABULARY = {"gold", "calibration", "duplicate", "regular", "expected", "expert", "rationale"}
"""Words that would reveal a pair's role or answer (in values; keys are the API's own)."""


def _values(value: Any) -> Iterator[str]:
    """Every string value of a JSON document, recursively (not the keys)."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _values(item)
    elif isinstance(value, list):
        for item in value:
            yield from _values(item)
    elif value is not None:
        yield str(value)


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item)


def _ids(campaign: Campaign, ranking_set_ids: tuple[str, ...] = ()) -> set[str]:
    """Ids the annotator must never see: trajectories, pairs, batches, ranking sets."""
    pairs = pairs_frame(campaign.store)
    words = {*campaign.manifest.trajectory_id, *pairs.batch_id, *pairs.pair_id,
             *ranking_set_ids}
    return {str(w).lower() for w in words if len(str(w)) >= 4}


def _labels(campaign: Campaign) -> set[str]:
    """Sources and tiers (words such as `expert` that API keys may also contain)."""
    m = campaign.manifest
    return {str(w).lower() for w in {*m.source, *m.tier} if len(str(w)) >= 4}


def _check(replies: list[Any], campaign: Campaign, vocabulary: set[str],
           ids: set[str] | None = None) -> None:
    """No id anywhere in a reply (headers, URL, JSON); no label or role word in its values."""
    ids = _ids(campaign) if ids is None else ids
    words = _labels(campaign) | vocabulary
    for reply in replies:
        seen = [f"{k}: {v}" for k, v in reply.headers.items()] + [str(reply.url)]
        values: list[str] = []
        if reply.headers.get("content-type", "").startswith("application/json"):
            values = list(_values(reply.json()))
            seen += list(_keys(reply.json()))
        leaked = sorted(w for w in ids if w in "\n".join(seen + values).lower())
        shown = "\n".join([*values, *(f"{k}: {v}" for k, v in reply.headers.items())]).lower()
        leaked += sorted(w for w in words if w in shown)
        assert not leaked, (reply.request.url, leaked)


def _answer(client: TestClient, item: dict[str, Any], csrf: dict[str, str], n: int) -> Any:
    body = {"assignment_id": item["assignment_id"], "choice": "left", "confidence": 3,
            "response_time_ms": 4000, "idempotency_key": f"k{n}"}
    return client.post("/api/submit", json=body, headers=csrf)


def _production_walk(client: TestClient, campaign: Campaign) -> list[Any]:
    """A certified annotator's session: every reply kept."""
    replies = [client.post("/api/session", json={"token": campaign.tokens["ann-1"]})]
    csrf = {"X-CSRF-Token": replies[0].json()["csrf_token"]}
    replies.append(client.get("/api/session"))
    for n in range(20):
        reply = client.get("/api/next")
        replies.append(reply)
        item = reply.json()["assignment"]
        if item is None:
            break
        for url in [item["left"]["clip_url"], item["right"]["clip_url"],
                    *reply.json()["upcoming"]]:
            replies.append(client.get(url, headers={"Range": "bytes=0-9"}))
        replies.append(client.post("/api/skip", json={"assignment_id": item["assignment_id"]},
                                   headers=csrf) if n == 1 else _answer(client, item, csrf, n))
    while (ranking := client.get("/api/ranking/next")).json()["ranking"] is not None:
        replies.append(ranking)
        body = ranking.json()["ranking"]
        order = [c["display_id"] for c in body["clips"]]
        replies.append(client.post("/api/ranking/submit", headers=csrf, json={
            "ranking_id": body["ranking_id"], "order": order, "response_time_ms": 9000,
            "flags": {order[0]: ["gripper_state_wrong"]}, "idempotency_key": body["ranking_id"]}))
    replies.append(ranking)
    replies.append(client.get("/api/calibration/feedback"))
    replies.append(client.post("/api/submit", json={"assignment_id": "0" * 24}, headers=csrf))
    replies.append(client.post("/api/ranking/submit", headers=csrf, json={
        "ranking_id": "0" * 24, "order": ["a", "b"], "response_time_ms": 1,
        "idempotency_key": "x"}))
    replies.append(client.get("/clips/" + "f" * 24 + ".mp4"))
    replies.append(client.delete("/api/session", headers=csrf))
    return replies


def test_no_production_reply_reveals_ids_sources_tiers_or_roles(
    app_client: TestClient, campaign: Campaign, calibration: tuple[str, ...]
) -> None:
    certify(campaign.store, "ann-1")
    batch = select_ranking_sets(campaign.manifest, PairsConfig(ranking_set_size=5),
                                annotator_ids=["ann-1", "ann-2", "outsider"], n_sets=2)
    create_batch(campaign.store, batch)
    replies = _production_walk(app_client, campaign)
    assert sum(r.headers.get("content-type") == "video/mp4" for r in replies) >= 10
    assert sum(r.request.url.path == "/api/ranking/submit" and r.status_code == 200
               for r in replies) >= 1
    ranking_ids = tuple(r.ranking_set_id for r in batch.ranking_sets)
    _check(replies, campaign, VOCABULARY, _ids(campaign, ranking_ids))


def test_a_trainee_sees_expert_answers_only_for_pairs_they_answered(
    app_client: TestClient, sign_in: Callable[..., Any], campaign: Campaign,
    calibration: tuple[str, ...],
) -> None:
    csrf = sign_in(TRAINEE)
    replies, answered, skipped = [], [], []
    for n in range(4):
        reply = app_client.get("/api/next")
        item = reply.json()["assignment"]
        replies += [reply, app_client.get("/api/calibration/feedback")]
        assert replies[-1].status_code == 404  # nothing before the set is finished
        if n == 2:
            skipped.append((item["left"]["display_id"], item["right"]["display_id"]))
            replies.append(app_client.post("/api/skip", headers=csrf,
                                           json={"assignment_id": item["assignment_id"]}))
            continue
        answered.append((item["left"]["display_id"], item["right"]["display_id"]))
        replies.append(_answer(app_client, item, csrf, n))
    assert replies[-1].json()["calibration_complete"]
    feedback = app_client.get("/api/calibration/feedback")
    shown = [(i["left"]["display_id"], i["right"]["display_id"])
             for i in feedback.json()["items"]]
    assert shown == answered and not set(shown) & set(skipped)
    # before the feedback, nothing names an expert answer or a rationale
    _check(replies, campaign, VOCABULARY - {"calibration"})
    _check([feedback], campaign, {"gold", "duplicate", "regular"})


@pytest.mark.parametrize("who", ["ann-1", "outsider"])
def test_no_one_else_sees_a_trainees_feedback(app_client: TestClient,
                                              sign_in: Callable[..., Any], campaign: Campaign,
                                              calibration: tuple[str, ...], who: str) -> None:
    csrf = sign_in(TRAINEE)
    for n in range(4):
        item = app_client.get("/api/next").json()["assignment"]
        _answer(app_client, item, csrf, n)
    assert app_client.get("/api/calibration/feedback").status_code == 200
    sign_in(who)
    assert app_client.get("/api/calibration/feedback").status_code == 404

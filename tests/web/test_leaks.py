"""Nothing the annotator receives names a trajectory id, source, tier, pair or batch."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi.testclient import TestClient

from robopref.store import pairs_frame

from .conftest import Campaign


def _strings(value: Any) -> Iterator[str]:
    """Every key and string value of a JSON document, recursively."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif value is not None:
        yield str(value)


def _forbidden(campaign: Campaign) -> set[str]:
    m = campaign.manifest
    words = {*m.trajectory_id, *m.source, *m.tier, campaign.batch.batch_id}
    pairs = pairs_frame(campaign.store)
    words |= set(pairs.pair_id) | {str(k) for k in pairs.kind.unique()} | {"gold", "calibration"}
    return {str(w).lower() for w in words if len(str(w)) >= 4}


def _walk(client: TestClient, campaign: Campaign,
          sign_in: Callable[..., Any]) -> list[Any]:  # TestClient's Response type
    """A whole session as the annotator's browser sees it: every reply kept."""
    replies = [client.post("/api/session", json={"token": campaign.tokens["ann-1"]})]
    csrf = {"X-CSRF-Token": replies[0].json()["csrf_token"]}
    replies.append(client.get("/api/session"))
    for n in range(20):
        reply = client.get("/api/next")
        replies.append(reply)
        item = reply.json()["assignment"]
        if item is None:
            break
        for side in ("left", "right"):
            replies.append(client.get(item[side]["clip_url"], headers={"Range": "bytes=0-9"}))
        body = {"assignment_id": item["assignment_id"], "choice": "left", "confidence": 3,
                "response_time_ms": 4000, "idempotency_key": f"k{n}"}
        path = "/api/skip" if n == 1 else "/api/submit"
        replies.append(client.post(path, json=body if n != 1 else
                                   {"assignment_id": item["assignment_id"]}, headers=csrf))
    replies.append(client.post("/api/submit", json={"assignment_id": "0" * 24}, headers=csrf))
    replies.append(client.get("/clips/" + "f" * 24 + ".mp4"))
    replies.append(client.delete("/api/session", headers=csrf))
    return replies


def test_no_reply_reveals_ids_sources_tiers_or_gold(app_client: TestClient,
                                                    sign_in: Callable[..., Any],
                                                    campaign: Campaign) -> None:
    replies = _walk(app_client, campaign, sign_in)
    assert sum(r.headers.get("content-type") == "video/mp4" for r in replies) >= 10
    forbidden = _forbidden(campaign)
    for reply in replies:
        seen = [f"{k}: {v}" for k, v in reply.headers.items()] + [str(reply.url)]
        if reply.headers.get("content-type", "").startswith("application/json"):
            seen += list(_strings(reply.json()))
        text = "\n".join(seen).lower()
        leaked = sorted(w for w in forbidden if w in text)
        assert not leaked, (reply.request.url, leaked)

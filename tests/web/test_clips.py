"""Clip streaming: opaque ids, range requests, and nothing outside the clip folder."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from robopref.web.signing import display_id

from .conftest import SECRET, Campaign


def _left_clip(client: TestClient) -> tuple[str, bytes, str]:
    """URL, file bytes and trajectory id of the first assignment's left clip."""
    item = client.get("/api/next").json()["assignment"]
    url = item["left"]["clip_url"]
    whole = client.get(url)
    assert whole.status_code == 200 and whole.headers["content-type"] == "video/mp4"
    return url, whole.content, item["left"]["display_id"]


def test_clip_urls_are_hmac_display_ids(app_client: TestClient, sign_in: Callable[..., Any],
                                        campaign: Campaign) -> None:
    sign_in("ann-1")
    url, data, shown_id = _left_clip(app_client)
    ids = {display_id(SECRET, "clip", t): t for t in campaign.manifest.trajectory_id}
    trajectory_id = ids[shown_id]
    assert url == f"/clips/{shown_id}.mp4"
    assert data == (campaign.pool / "clips" / f"{trajectory_id}.mp4").read_bytes()
    assert display_id("another-secret-0123456789", "clip", trajectory_id) != shown_id


def test_range_request_is_206_with_the_right_bytes(app_client: TestClient,
                                                   sign_in: Callable[..., Any]) -> None:
    sign_in("ann-1")
    url, data, _ = _left_clip(app_client)
    reply = app_client.get(url, headers={"Range": "bytes=10-99"})
    assert reply.status_code == 206
    assert reply.content == data[10:100]
    assert reply.headers["content-range"] == f"bytes 10-99/{len(data)}"
    assert reply.headers["accept-ranges"] == "bytes"
    tail = app_client.get(url, headers={"Range": "bytes=-16"})
    assert tail.status_code == 206 and tail.content == data[-16:]


@pytest.mark.parametrize("bad", ["bytes=999999999-", "bytes=50-10", "bytes=x-y", "items=0-5"])
def test_an_unsatisfiable_range_is_416(app_client: TestClient, sign_in: Callable[..., Any],
                                       bad: str) -> None:
    sign_in("ann-1")
    url, data, _ = _left_clip(app_client)
    reply = app_client.get(url, headers={"Range": bad})
    assert reply.status_code == 416
    assert reply.headers["content-range"] == f"bytes */{len(data)}"


def test_clips_need_a_session(app_client: TestClient, sign_in: Callable[..., Any]) -> None:
    sign_in("ann-1")
    url, _, _ = _left_clip(app_client)
    app_client.cookies.clear()
    assert app_client.get(url).status_code == 401


@pytest.mark.parametrize("path", [
    "/clips/..%2F..%2Fmanifest.parquet.mp4", "/clips/../manifest.parquet",
    "/clips/%2e%2e%2fsyn-00-000.mp4", "/clips/syn-00-000.mp4", "/clips/" + "0" * 24 + ".mp4",
    "/clips/..%5C..%5Cpool.json.mp4", "/clips/%00.mp4",
])
def test_path_traversal_and_unknown_ids_are_404(app_client: TestClient,
                                                sign_in: Callable[..., Any], path: str) -> None:
    sign_in("ann-1")
    reply = app_client.get(path)
    assert reply.status_code == 404, reply.text
    assert b"PAR1" not in reply.content


def test_a_trajectory_id_is_not_a_clip_url(app_client: TestClient, sign_in: Callable[..., Any],
                                           campaign: Campaign) -> None:
    sign_in("ann-1")
    trajectory_id = str(campaign.manifest.trajectory_id.iloc[0])
    assert app_client.get(f"/clips/{trajectory_id}.mp4").status_code == 404

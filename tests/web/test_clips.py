"""Clip streaming: opaque ids, range requests, and nothing outside the clip folder."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from robopref.errors import InputError
from robopref.render import clip_display_id, load_display_key
from robopref.web import Settings, create_app
from robopref.web.clip_index import ClipIndex
from robopref.web.signing import display_id

from .conftest import SECRET, Campaign

# ann-1 and ann-2 must be certified to be served the production batch
pytestmark = pytest.mark.usefixtures("certified")


def _left_clip(client: TestClient) -> tuple[str, bytes, str]:
    """URL, file bytes and trajectory id of the first assignment's left clip."""
    item = client.get("/api/next").json()["assignment"]
    url = item["left"]["clip_url"]
    whole = client.get(url)
    assert whole.status_code == 200 and whole.headers["content-type"] == "video/mp4"
    return url, whole.content, item["left"]["display_id"]


def _pool_key(campaign: Campaign) -> bytes:
    key = load_display_key(campaign.pool / "clips")
    assert key is not None
    return key


def test_clip_urls_are_the_display_ids_burned_into_the_clips(
    app_client: TestClient, sign_in: Callable[..., Any], campaign: Campaign
) -> None:
    sign_in("ann-1")
    url, data, shown_id = _left_clip(app_client)
    key = _pool_key(campaign)
    ids = {clip_display_id(key, t): t for t in campaign.manifest.trajectory_id}
    trajectory_id = ids[shown_id]
    assert url == f"/clips/{shown_id}.mp4"
    clips = campaign.pool / "clips"
    assert data == (clips / f"{trajectory_id}.mp4").read_bytes()
    assert json.loads((clips / f"{trajectory_id}.json").read_text())["burned_id"] == shown_id
    assert display_id(SECRET, "clip", trajectory_id) != shown_id  # not from the server secret


def test_clip_ids_survive_a_restart_with_another_secret(
    app_client: TestClient, sign_in: Callable[..., Any], campaign: Campaign
) -> None:
    sign_in("ann-1")
    first = app_client.get("/api/next").json()["assignment"]
    settings = Settings(db_url=campaign.store.url, pool=campaign.pool,
                        secret="another-secret-0123456789")  # type: ignore[arg-type]
    with TestClient(create_app(settings)) as restarted:
        reply = restarted.post("/api/session", json={"token": campaign.tokens["ann-1"]})
        assert reply.status_code == 200
        again = restarted.get("/api/next").json()["assignment"]
        assert {again[s]["display_id"] for s in ("left", "right")} == {
            first[s]["display_id"] for s in ("left", "right")
        }
        assert restarted.get(again["left"]["clip_url"]).status_code == 200


@pytest.fixture
def sidecar_of_left_clip(app_client: TestClient, sign_in: Callable[..., Any],
                         campaign: Campaign) -> Iterator[tuple[str, Path]]:
    """The left clip's URL (served once) and its sidecar, restored after the test."""
    sign_in("ann-1")
    url, _, shown_id = _left_clip(app_client)
    key = _pool_key(campaign)
    tid = next(t for t in campaign.manifest.trajectory_id if clip_display_id(key, t) == shown_id)
    sidecar = campaign.pool / "clips" / f"{tid}.json"
    original = sidecar.read_text()
    try:
        yield url, sidecar
    finally:
        sidecar.write_text(original)


@pytest.mark.parametrize("burned", [None, "0" * 24, "known-000"])
def test_a_clip_without_its_display_id_burned_in_is_404(
    app_client: TestClient, sidecar_of_left_clip: tuple[str, Path], burned: str | None
) -> None:
    url, sidecar = sidecar_of_left_clip
    record = json.loads(sidecar.read_text())
    if burned is None:
        del record["burned_id"]  # as robopref rendered clips before display ids
    else:
        record["burned_id"] = burned
    sidecar.write_text(json.dumps(record, indent=2))
    assert app_client.get(url).status_code == 404  # the cached check sees the new sidecar
    sidecar.unlink()
    assert app_client.get(url).status_code == 404


def test_a_pool_without_a_key_serves_no_clip(campaign: Campaign, tmp_path: Path) -> None:
    (tmp_path / "clips").mkdir()
    tid = str(campaign.manifest.trajectory_id.iloc[0])
    for ext in ("mp4", "json"):
        shutil.copy(campaign.pool / "clips" / f"{tid}.{ext}", tmp_path / "clips")
    index = ClipIndex(campaign.store, tmp_path)
    assert index.video(tid) is None
    assert index.display_id(tid) != clip_display_id(_pool_key(campaign), tid)
    assert ClipIndex(campaign.store, campaign.pool).video(tid) is not None


def test_a_malformed_key_stops_the_server_naming_the_file(campaign: Campaign,
                                                          tmp_path: Path) -> None:
    (tmp_path / "clips").mkdir()
    (tmp_path / "clips" / "display-key.json").write_text('{"format": "robopref-display-key"}')
    with pytest.raises(InputError) as err:
        ClipIndex(campaign.store, tmp_path)
    assert err.value.field == "version" and err.value.path.endswith("display-key.json")


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
    "/clips/..%5C..%5Cpool.json.mp4", "/clips/%00.mp4", "/clips/display-key.json",
    "/clips/display-key.mp4",
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

"""The hot routes serialise their replies themselves: the bytes still match web/schemas.py."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from robopref.web.schemas import NextPublic, SubmitPublic

pytestmark = pytest.mark.usefixtures("certified")


def test_next_and_submit_bytes_validate_against_their_schemas(
        app_client: TestClient, sign_in: Callable[[str], dict[str, str]]) -> None:
    headers = sign_in("ann-1")
    reply = app_client.get("/api/next")
    assert reply.status_code == 200 and reply.headers["content-type"] == "application/json"
    shown = NextPublic.model_validate_json(reply.content)
    assert shown.assignment is not None and set(reply.json()) == set(NextPublic.model_fields)
    answer = {"assignment_id": shown.assignment.assignment_id, "choice": "left",
              "confidence": 3, "response_time_ms": 4000, "idempotency_key": "k-shape"}
    for created in (True, False):  # the retry answers the same shape
        stored = app_client.post("/api/submit", json=answer, headers=headers)
        assert stored.status_code == 200 and stored.headers["content-type"] == "application/json"
        assert SubmitPublic.model_validate_json(stored.content) == SubmitPublic(
            created=created, calibration_complete=False)


def test_the_documented_shapes_stay_in_the_openapi_schema(app_client: TestClient) -> None:
    paths = app_client.get("/openapi.json").json()["paths"]
    for path, method, model in (("/api/next", "get", "NextPublic"),
                                ("/api/submit", "post", "SubmitPublic")):
        reply = paths[path][method]["responses"]["200"]["content"]["application/json"]
        assert reply["schema"]["$ref"].endswith(f"/{model}")
    body = paths["/api/submit"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["$ref"].endswith("/SubmitBody")

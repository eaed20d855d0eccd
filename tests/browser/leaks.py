"""What an annotator's browser receives, and the check that none of it gives an answer away."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .campaign import Campaign

FORBIDDEN_KEYS = {
    "trajectory_id", "trajectory_a_id", "trajectory_b_id", "left_trajectory_id", "tier",
    "source", "quality_score", "quartile", "quartile_a", "quartile_b", "expected",
    "expected_preference", "gold", "kind", "stratum", "pair_id", "batch_id",
    "ranking_set_id", "duplicate_of", "annotations", "preference",
}
"""JSON keys no annotator reply may carry."""
AFTER_ANSWER_KEYS = {"expert_choice", "rationale", "agreed"}
"""Keys only the calibration feedback may carry (after the set was answered)."""
FEEDBACK_PATH = "/api/calibration/feedback"


@dataclass
class Reply:
    """One response the browser received."""

    url: str
    status: int
    headers: dict[str, str]
    body: bytes | None
    """None for media (Chromium streams it outside the page's reach) and redirects."""

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def json(self) -> Any:
        assert self.body is not None
        return json.loads(self.body)


@dataclass
class Received:
    """Every response of one browser context, in order."""

    replies: list[Reply] = field(default_factory=list)

    def json_replies(self, path: str) -> list[Reply]:
        """The JSON replies of requests to `path`."""
        return [r for r in self.replies
                if r.url.split("?")[0].endswith(path) and "json" in r.content_type]


def record(context: Any, received: Received) -> None:
    """Keep every response `context` receives (bodies read as they arrive)."""

    def keep(response: Any) -> None:
        headers = {k.lower(): v for k, v in response.headers.items()}
        body = None
        media = headers.get("content-type", "").startswith("video/")
        if not media and response.request.resource_type != "media":
            try:
                body = response.body()
            except Exception:  # redirects and aborted loads have no body
                body = None
        received.replies.append(Reply(response.url, response.status, headers, body))

    context.on("response", keep)


def _strings(value: Any, keys: list[str], values: list[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            keys.append(str(key))
            _strings(item, keys, values)
    elif isinstance(value, list):
        for item in value:
            _strings(item, keys, values)
    elif isinstance(value, str):
        values.append(value)


def _secrets(campaign: Campaign) -> tuple[set[str], set[str]]:
    """(ids that must appear nowhere, tier/source words that must be no JSON value's word)."""
    m = campaign.manifest
    ids = {*m.trajectory_id, campaign.production.batch_id, campaign.ranking.batch_id}
    ids |= {p.pair_id for p in campaign.production.pairs}
    for calibration_set in campaign.calibration:
        ids |= {calibration_set.batch.batch_id, *(p.pair_id for p in calibration_set.batch.pairs)}
    ids |= {r.ranking_set_id for r in campaign.ranking.ranking_sets}
    words = {str(w).lower() for w in (*m.tier.unique(), *m.source.unique())}
    return {i.lower() for i in ids if len(i) >= 4}, words


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def _problems(reply: Reply, ids: set[str], words: set[str]) -> Iterator[str]:
    where = f"{reply.status} {reply.url}"
    outer = "\n".join([reply.url, *(f"{k}: {v}" for k, v in reply.headers.items())]).lower()
    text = outer + ("" if reply.body is None else reply.body.decode("utf-8", "replace").lower())
    for found in sorted(i for i in ids if i in text):
        yield f"{where}: names {found!r}"
    for found in sorted(words & _words(outer)):
        yield f"{where}: url or headers say {found!r}"
    if reply.body is None or "json" not in reply.content_type:
        return
    keys: list[str] = []
    values: list[str] = []
    _strings(reply.json(), keys, values)
    allowed = AFTER_ANSWER_KEYS if reply.url.split("?")[0].endswith(FEEDBACK_PATH) else set()
    for key in sorted(set(keys) & (FORBIDDEN_KEYS | (AFTER_ANSWER_KEYS - allowed))):
        yield f"{where}: carries the key {key!r}"
    for value in values:
        for found in sorted(words & _words(value)):
            yield f"{where}: value {value[:60]!r} says {found!r}"


def leaks_in(received: Received, campaign: Campaign) -> list[str]:
    """Every reply that names a trajectory, pair, batch, tier, source or expected answer."""
    ids, words = _secrets(campaign)
    return [p for reply in received.replies for p in _problems(reply, ids, words)]

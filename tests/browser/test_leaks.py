"""A whole annotator session as the browser sees it: no id, tier, source or answer in it."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .campaign import Campaign
from .comparison import ComparisonPage
from .leaks import leaks_in

OpenPage = Callable[[str | None], tuple[Any, Any]]


def test_no_reply_to_an_annotator_reveals_ids_tiers_sources_or_answers(
        open_page: OpenPage, campaign: Campaign) -> None:
    page, received = open_page(None)
    comparison = ComparisonPage(page)
    item = comparison.open("/#token=" + campaign.tokens["walk-1"])  # the link a lead hands out
    assert "token" not in page.url
    while item is not None:
        item = comparison.answer_by_keys("left", 3)
    for path in ("/calibration", "/rank"):
        with page.expect_response(lambda r: "/api/" in r.url and "session" not in r.url):
            page.goto(path)
        page.locator("main > section:visible").first.wait_for()
    clips = [r for r in received.replies if r.content_type == "video/mp4"]
    assert len(clips) >= 4 and len(received.json_replies("/api/next")) >= 2
    assert {r.url.rsplit(".", 1)[-1] for r in received.replies if "/static/" in r.url} >= {
        "js", "css"}
    assert leaks_in(received, campaign) == []
    # the clips' burned-in text is their display id (the sidecars record it)
    for reply in clips:
        display_id = reply.url.rsplit("/", 1)[-1].removesuffix(".mp4")
        sidecars = [json.loads(p.read_text()) for p in (campaign.pool / "clips").glob("*.json")
                    if p.name != "display-key.json"]
        burned = {s["burned_id"] for s in sidecars}
        assert display_id in burned


def test_the_leak_check_catches_ids_tiers_and_answer_keys(campaign: Campaign) -> None:
    from .leaks import Received, Reply

    trajectory_id = str(campaign.manifest.trajectory_id.iloc[0])
    tier = str(campaign.manifest.tier.iloc[0])
    json_type = {"content-type": "application/json"}
    replies = [
        Reply("http://x/api/next", 200, json_type, b'{"task": "reach", "n": 1}'),
        Reply(f"http://x/clips/{trajectory_id}.mp4", 200, {"content-type": "video/mp4"}, None),
        Reply("http://x/api/next", 200, json_type, json.dumps({"hint": f"a {tier} one"}).encode()),
        Reply("http://x/api/next", 200, json_type, b'{"expected_preference": "A"}'),
        Reply("http://x/api/next", 200, json_type, b'{"rationale": "the better clip"}'),
        Reply("http://x/api/calibration/feedback", 200, json_type, b'{"rationale": "fine here"}'),
    ]
    found = leaks_in(Received(replies), campaign)
    assert len(found) == 4, found
    assert trajectory_id in found[0] and tier in found[1]
    assert "expected_preference" in found[2] and "rationale" in found[3]

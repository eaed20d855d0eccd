"""Calibration in Chromium: a newcomer fails the first set, reads feedback, passes the second."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import expect

from robopref.store import certification_history

from .campaign import Campaign
from .comparison import ComparisonPage

OpenPage = Callable[[str | None], tuple[Any, Any]]
OTHER = {"left": "right", "right": "left"}


def _answer_set(comparison: ComparisonPage, campaign: Campaign, *, agree: bool) -> int:
    """Answer every pair of the calibration set shown, with or against the expert answers."""
    page = comparison.page
    item = comparison.last["assignment"]
    assert comparison.last["phase"] == "calibration"
    answered = 0
    while True:
        side = campaign.expert_side("cal-1", item["assignment_id"])
        side = side if agree else OTHER[side]
        answered += 1
        if item["remaining"] == 1:  # the last pair: its submit opens the feedback page
            comparison.wait_playable()
            page.click(f".choice[data-choice={side}]")
            page.keyboard.press("4")
            page.click("#submit")
            page.wait_for_url("**/calibration")
            return answered
        item = comparison.answer_by_mouse(side, 4)
        assert item is not None and comparison.last["phase"] == "calibration"


def test_a_newcomer_fails_then_passes_calibration_with_feedback(
        open_page: OpenPage, campaign: Campaign,
        screenshots: Callable[[Any, str], Any]) -> None:
    page, received = open_page("cal-1")
    comparison = ComparisonPage(page)
    assert comparison.open() is not None
    assert "Calibration" in page.locator("#phase").inner_text()
    n_first = _answer_set(comparison, campaign, agree=False)

    expect(page.locator("#verdict")).to_have_text("Not passed yet")
    assert "second, different calibration set" in page.locator("#next").inner_text()
    items = page.locator(".feedback-item")
    expect(items).to_have_count(n_first)
    assert page.locator(".feedback-item[data-agreed=false]").count() == n_first
    first = items.first
    yours, experts = first.locator(".your-choice"), first.locator(".expert-choice")
    assert yours.inner_text() != experts.inner_text()
    assert "better clip" in first.locator(".rationale").inner_text()
    assert first.locator("video").count() == 2
    kappa = float(page.locator("#kappa").inner_text().split("=")[1])
    assert kappa < 0.65 and page.locator("#threshold").inner_text() == "0.65"
    page.wait_for_function("[...document.querySelectorAll('.feedback-item video')]"
                           ".every(v => v.readyState >= 2)")  # loaded as they near the screen
    screenshots(page, "calibration-feedback")

    with page.expect_response(lambda r: r.url.endswith("/api/next")) as reply:
        page.click("#continue")
    comparison.last, comparison.shown = reply.value.json(), 1
    second_set = comparison.last["assignment"]
    assert second_set is not None
    n_second = _answer_set(comparison, campaign, agree=True)

    expect(page.locator("#verdict")).to_have_text("Passed")
    assert "certified" in page.locator("#next").inner_text()
    expect(page.locator(".feedback-item[data-agreed=true]")).to_have_count(n_second)
    with page.expect_response(lambda r: r.url.endswith("/api/next")) as reply:
        page.click("#continue")
    after = reply.value.json()
    assert after["phase"] == "production" and after["assignment"] is not None
    assert after["assignment"]["assignment_id"] in {
        campaign.assignment_id(p.pair_id) for p in campaign.production.pairs}

    history = certification_history(campaign.store, "cal-1")
    assert history.passed.tolist() == [False, True]
    assert history.calibration_batch_id.tolist() == [s.batch.batch_id for s in campaign.calibration]
    feedback = received.json_replies("/api/calibration/feedback")
    assert len(feedback) == 2 and {r.json()["passed"] for r in feedback} == {False, True}

"""The comparison page in Chromium: sign-in, answers by mouse and keys, sync, retries, 403s."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pandas as pd
from playwright.sync_api import expect

from robopref.store import annotations_frame, assignments_frame

from .campaign import Campaign
from .comparison import ComparisonPage

INTERFACE_VERSION = "robopref-web-1"
FRAME_S = 1 / 15
OpenPage = Callable[[str | None], tuple[Any, Any]]


def _rows(campaign: Campaign, annotator_id: str) -> pd.DataFrame:
    rows = annotations_frame(campaign.store)
    return rows[rows.annotator_id == annotator_id].reset_index(drop=True)


def _shown_left(campaign: Campaign, annotator_id: str, pair_id: str) -> str:
    assignments = assignments_frame(campaign.store).set_index(["pair_id", "annotator_id"])
    left: str = assignments.loc[(pair_id, annotator_id), "left_trajectory_id"]
    return left


def _check_row(row: Any, campaign: Campaign, annotator_id: str, choice: str) -> None:
    left = _shown_left(campaign, annotator_id, row.pair_id)
    assert row.left_trajectory_id == left  # the presentation order the page showed
    right = row.trajectory_b_id if left == row.trajectory_a_id else row.trajectory_a_id
    chosen = {"left": left, "right": right}.get(choice)
    expected = "equal" if chosen is None else ("A" if chosen == row.trajectory_a_id else "B")
    assert row.preference == expected
    assert row.response_time_ms > 0
    assert row.interface_version == INTERFACE_VERSION


def test_a_wrong_token_is_refused_and_the_right_one_opens_the_queue(
        open_page: OpenPage, campaign: Campaign) -> None:
    page, _ = open_page(None)
    page.goto("/annotate")
    page.wait_for_url("**/?next=%2Fannotate")  # no session: the page sends us to sign in
    page.fill("#token", "not-a-token")
    page.click("#sign-in button[type=submit]")
    expect(page.locator("#error")).to_contain_text("not valid")
    page.fill("#token", campaign.tokens["walk-1"])
    page.click("#sign-in button[type=submit]")
    page.wait_for_url("**/annotate")
    expect(page.locator("#who")).to_have_text("walk-1")
    assert "token" not in page.url


def test_comparisons_by_mouse_land_with_order_rubric_and_reason(
        open_page: OpenPage, campaign: Campaign,
        screenshots: Callable[[Any, str], Any]) -> None:
    page, _ = open_page("mouse-1")
    comparison = ComparisonPage(page)
    first = comparison.open()
    assert first is not None and first["rubric"] is True
    assert page.locator("#rubric").is_visible()
    comparison.wait_playable()
    page.click(".choice[data-choice=left]")
    page.check("input[name=confidence][value='4']")
    page.check("input[name=rubric-success][value=left]")
    page.fill("#reason", "the right one <b>drops</b> it")
    screenshots(page, "comparison")
    second = comparison.answer_by_mouse("left", 4, reason="the right one <b>drops</b> it",
                                        rubric={"success": "left", "collisions": "equal",
                                                "safety": "right"})
    assert second is not None and second["assignment_id"] != first["assignment_id"]
    notice = page.locator("#notice")
    assert notice.is_visible() and "quick" in notice.inner_text()  # answered in under 3 s
    comparison.answer_by_mouse("right", 2)
    rows = _rows(campaign, "mouse-1")
    assert len(rows) == 2
    assert list(rows.pair_id) == [campaign.pair_id(first["assignment_id"]),
                                  campaign.pair_id(second["assignment_id"])]
    for row, choice in zip(rows.itertuples(), ("left", "right"), strict=True):
        _check_row(row, campaign, "mouse-1", choice)
    assert json.loads(rows.rubric_answers[0]) == {"success": "left", "collisions": "equal",
                                                  "safety": "right"}
    assert rows.free_text_reason[0] == "the right one <b>drops</b> it"
    assert pd.isna(rows.rubric_answers[1]) and pd.isna(rows.free_text_reason[1])
    assert rows.confidence.tolist() == [4, 2]


def test_comparisons_by_keyboard(open_page: OpenPage, campaign: Campaign) -> None:
    page, _ = open_page("keys-1")
    comparison = ComparisonPage(page)
    first = comparison.open()
    assert first is not None
    assert "Enter" in page.locator(".keys").inner_text()  # the keys are on the page
    second = comparison.answer_by_keys("equal", 3)
    assert second is not None
    comparison.answer_by_keys("left", 5)
    rows = _rows(campaign, "keys-1")
    assert list(rows.pair_id) == [campaign.pair_id(first["assignment_id"]),
                                  campaign.pair_id(second["assignment_id"])]
    for row, choice in zip(rows.itertuples(), ("equal", "left"), strict=True):
        _check_row(row, campaign, "keys-1", choice)
    assert rows.confidence.tolist() == [3, 5]


def _in_sync(times: dict[str, float]) -> bool:
    """Within one frame, or the shorter clip has simply reached its end."""
    left, right = times["left"], times["right"]
    shorter = min(times["left_duration"], times["right_duration"])
    if min(left, right) >= shorter - 0.01:
        return True
    return abs(left - right) <= FRAME_S


def test_players_stay_within_a_frame_after_play_seek_and_speed(
        open_page: OpenPage) -> None:
    page, _ = open_page("sync-1")
    comparison = ComparisonPage(page)
    assert comparison.open() is not None
    comparison.wait_playable()  # the page starts both clips itself
    page.wait_for_timeout(400)
    playing = comparison.times()
    assert not playing["paused"] and playing["left"] > 0.1 and _in_sync(playing), playing
    page.keyboard.press(" ")  # pause
    page.keyboard.press("ArrowRight")  # seek +1 s
    page.wait_for_timeout(150)
    seeked = comparison.times()
    assert seeked["paused"] and seeked["left"] > playing["left"] + 0.9, (playing, seeked)
    assert _in_sync(seeked), seeked
    page.click("[data-speed='0.5']")
    page.keyboard.press(" ")  # play at half speed
    page.wait_for_timeout(500)
    slow = comparison.times()
    assert 0.5 in (slow["left_rate"], slow["right_rate"])  # the leader's; the follower is nudged
    assert not slow["paused"] and _in_sync(slow), slow
    page.click("[data-speed='0.25']")
    page.wait_for_timeout(400)
    slower = comparison.times()
    assert 0.25 in (slower["left_rate"], slower["right_rate"]) and _in_sync(slower), slower
    page.keyboard.press(".")  # a frame forward pauses both on the same frame
    page.wait_for_timeout(150)
    stepped = comparison.times()
    assert stepped["paused"] and abs(stepped["left"] - stepped["right"]) < 0.005, stepped
    page.click("#replay")
    page.wait_for_timeout(300)
    replayed = comparison.times()
    assert replayed["left"] < 1.0 and _in_sync(replayed), replayed
    # knock one player 0.3 s off while both play: the correction loop brings it back
    page.click("[data-speed='1']")
    page.evaluate("document.querySelector('#right-slot video').currentTime += 0.3")
    page.wait_for_timeout(500)
    corrected = comparison.times()
    assert not corrected["paused"] and _in_sync(corrected), corrected


def test_a_network_failure_during_submit_ends_with_one_row(open_page: OpenPage,
                                                           campaign: Campaign) -> None:
    page, _ = open_page("net-1")
    comparison = ComparisonPage(page)
    first = comparison.open()
    assert first is not None
    attempts: list[str] = []

    def flaky(route: Any) -> None:
        attempts.append(route.request.post_data_json["idempotency_key"])
        if len(attempts) <= 2:
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/api/submit", flaky)
    comparison.wait_playable()
    page.keyboard.press("r")
    page.keyboard.press("4")
    page.keyboard.press("Enter")
    page.locator("#pending", has_text="1 answer pending").wait_for()
    assert _leaving_warns(page)  # closing the tab now asks first
    page.locator("#pending").wait_for(state="hidden")
    assert not _leaving_warns(page)
    page.wait_for_function("performance.getEntriesByName('playable').length >= 2")
    rows = _rows(campaign, "net-1")
    assert len(rows) == 1 and rows.pair_id[0] == campaign.pair_id(first["assignment_id"])
    assert len(attempts) == 3 and len(set(attempts)) == 1  # retried with the same key
    assert page.evaluate("localStorage.length") == 0  # nothing left queued
    _check_row(rows.iloc[0], campaign, "net-1", "right")


def _leaving_warns(page: Any) -> bool:
    """Whether the page's beforeunload handler would ask before leaving."""
    prevented: bool = page.evaluate("""() => {
        const event = new Event('beforeunload', {cancelable: true});
        window.dispatchEvent(event);
        return event.defaultPrevented;
    }""")
    return prevented


def test_another_annotators_pair_and_the_admin_api_are_403(open_page: OpenPage,
                                                           campaign: Campaign) -> None:
    page, _ = open_page("peek-1")
    assert ComparisonPage(page).open() is not None
    mine = set(assignments_frame(campaign.store).query("annotator_id == 'peek-1'").pair_id)
    theirs = next(p.pair_id for p in campaign.production.pairs if p.pair_id not in mine)
    statuses = page.evaluate("""async (assignmentId) => {
        const me = await (await fetch('/api/session')).json();
        const headers = {'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token};
        const body = JSON.stringify({assignment_id: assignmentId, choice: 'left',
            confidence: 3, response_time_ms: 4000, idempotency_key: 'peek'});
        const submit = await fetch('/api/submit', {method: 'POST', headers, body});
        const skip = await fetch('/api/skip', {method: 'POST', headers,
            body: JSON.stringify({assignment_id: assignmentId})});
        const admin = await fetch('/api/admin/overview');
        const token = await fetch('/api/admin/annotators', {method: 'POST', headers,
            body: JSON.stringify({annotator_id: 'peek-2'})});
        return [submit.status, skip.status, admin.status, token.status];
    }""", campaign.assignment_id(theirs))
    assert statuses == [403, 403, 403, 403]
    assert len(_rows(campaign, "peek-1")) == 0


def test_skip_asks_first_and_takes_the_pair_out_of_the_queue(open_page: OpenPage,
                                                             campaign: Campaign) -> None:
    page, _ = open_page("peek-1")
    asked: list[str] = []
    page.on("dialog", lambda dialog: asked.append(dialog.message))  # the fixture accepts
    comparison = ComparisonPage(page)
    first = comparison.open()
    assert first is not None
    with page.expect_response(lambda r: r.url.endswith("/api/next")) as reply:
        page.click("#skip")
    assert asked and "Skip this pair?" in asked[0]
    after = reply.value.json()["assignment"]
    assert after is None or after["assignment_id"] != first["assignment_id"]
    shown = assignments_frame(campaign.store).set_index(["pair_id", "annotator_id"])
    assert bool(shown.loc[(campaign.pair_id(first["assignment_id"]), "peek-1"), "skipped"])
    assert len(_rows(campaign, "peek-1")) == 0

"""The admin dashboard in Chromium: readable numbers, escaped reasons, tokens, exclusion."""

from __future__ import annotations

import io
import json
import statistics
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pyarrow.parquet as pq
from playwright.sync_api import expect

from robopref.schemas import PREFERENCES_SCHEMA
from robopref.store import Submission, assignments_frame, submit_annotation
from robopref.store.admin import excluded_annotators

from .campaign import Campaign

OpenPage = Callable[[str | None], tuple[Any, Any]]
SCRIPT = "<script>window.pwned = 1</script><b>bold</b>"


def _seed_answers(campaign: Campaign) -> float:
    """Answers from `seed-1` (one with a hostile reason); returns their median time in s."""
    mine = assignments_frame(campaign.store).query("annotator_id == 'seed-1'")
    for n, row in enumerate(mine.itertuples()):
        submit_annotation(campaign.store, Submission(
            annotator_id="seed-1", pair_id=row.pair_id, preference="A", confidence=3,
            response_time_ms=12_400 + 1000 * n, left_trajectory_id=row.left_trajectory_id,
            idempotency_key=f"seed-{n}", free_text_reason=SCRIPT if n == 0 else None))
    return float(statistics.median(12_400 + 1000 * n for n in range(len(mine)))) / 1000


def test_the_dashboard_reads_well_and_its_actions_work(
        open_page: OpenPage, campaign: Campaign, server: str,
        screenshots: Callable[[Any, str], Any]) -> None:
    median_s = _seed_answers(campaign)
    page, _ = open_page("lead")
    page.goto("/admin")
    seed_row = page.locator("#annotators tr[data-annotator='seed-1']")
    expect(seed_row).to_be_visible()
    assert f"{median_s:.1f} s" in seed_row.inner_text()  # the median, formatted for people
    assert "/h" in seed_row.inner_text() or "–" in seed_row.inner_text()
    assert "e+" not in page.locator("#annotators").inner_text()
    expect(page.locator("#batches .batch-row")).to_have_count(4)
    expect(page.locator("#qa-cards .card")).to_have_count(7)
    fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert fits, "the dashboard scrolls sideways"
    reason = page.locator("#reasons .reason-text").first
    expect(reason).to_have_text(SCRIPT)  # shown as text, never run or rendered
    assert page.evaluate("window.pwned") is None
    assert page.locator("#reasons b").count() == 0
    plots = page.locator("#plots img")
    assert plots.count() >= 3
    for n in range(plots.count()):
        plots.nth(n).scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                               arg=plots.nth(n).element_handle())
    screenshots(page, "dashboard")

    page.fill("#add-annotator input[name=annotator_id]", "new-1")
    page.click("#add-annotator button[type=submit]")
    token = page.locator("#token-value")
    expect(token).not_to_be_empty()
    expect(page.locator("#copy-token")).to_be_visible()
    assert _sign_in(server, token.inner_text()) == 200
    new_row = page.locator("#annotators tr[data-annotator='new-1']")
    with page.expect_response(lambda r: r.url.endswith("/token")):
        new_row.get_by_role("button", name="Revoke").click()
    expect(new_row.locator(".badge.warn")).to_have_text("no token")
    assert _sign_in(server, token.inner_text()) == 401

    page.select_option("#create-batch select[name=kind]", "calibration")
    page.fill("#create-batch input[name=size]", "2")
    page.click("#create-batch button[type=submit]")  # the pool's clear-cut pairs are used up
    expect(page.locator("#batch-result")).to_contain_text("seed")
    page.select_option("#create-batch select[name=kind]", "stratified")
    page.fill("#create-batch input[name=annotator_ids]", "seed-1, rank-2")
    with page.expect_response(lambda r: r.url.endswith("/api/admin/batches")) as created:
        page.click("#create-batch button[type=submit]")
    assert created.value.ok, created.value.text()
    batch_id = created.value.json()["batch_id"]
    expect(page.locator("#batch-result")).to_contain_text(f"Created {batch_id}")
    made = page.locator(f"#batches .batch-row[data-batch='{batch_id}']")
    expect(made).to_have_count(1)
    made.get_by_role("button", name="Close").click()
    expect(made.locator(".hint")).to_have_text("closed")
    exports = {}
    for link in page.locator("a[href^='/api/admin/export/']").all():
        href = link.get_attribute("href")
        reply = page.context.request.get(href)
        assert reply.ok, (href, reply.status)
        exports[href.rsplit(".", 1)[-1]] = reply.body()
    # rows agree across the two files (none or more, as the campaign stands)
    table = pq.read_table(io.BytesIO(exports["parquet"]))
    assert table.schema.remove_metadata().equals(PREFERENCES_SCHEMA)
    assert len(exports["jsonl"].splitlines()) == table.num_rows


def _sign_in(server: str, token: str) -> int:
    """Status of a sign-in with `token`, outside the browser (the lead stays signed in)."""
    request = urllib.request.Request(f"{server}/api/session", method="POST",
                                     data=json.dumps({"token": token}).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            status: int = reply.status
            return status
    except urllib.error.HTTPError as error:
        return error.code


def test_excluding_an_annotator_from_the_dashboard(open_page: OpenPage,
                                                   campaign: Campaign) -> None:
    page, _ = open_page("lead")
    page.goto("/admin")
    row = page.locator("#annotators tr[data-annotator='sync-1']")
    with page.expect_response(lambda r: r.url.endswith("/exclusion")):
        row.get_by_role("button", name="Exclude").click()
    expect(row.locator(".badge.bad")).to_have_text("excluded")
    assert "sync-1" in excluded_annotators(campaign.store)
    with page.expect_response(lambda r: r.url.endswith("/exclusion")):
        row.get_by_role("button", name="Re-include").click()
    expect(row.locator(".badge.bad")).to_have_count(0)
    assert "sync-1" not in excluded_annotators(campaign.store)


def test_an_annotator_sees_no_dashboard(open_page: OpenPage) -> None:
    page, _ = open_page("peek-1")
    page.goto("/admin")
    expect(page.locator("#status .status-title")).to_have_text("Admins only")
    assert page.locator("#dash").is_hidden()

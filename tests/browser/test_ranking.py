"""The ranking page in Chromium: one set ordered by keys, one by drag, flags, rows stored."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from playwright.sync_api import expect
from sqlalchemy import select

from robopref.render import clip_display_id, load_display_key
from robopref.store.models import Ranking, RankingItem

from .campaign import Campaign

OpenPage = Callable[[str | None], tuple[Any, Any]]


def _order(page: Any) -> list[str]:
    ids: list[str] = page.eval_on_selector_all(".rank-card", "cs => cs.map(c => c.dataset.id)")
    return ids


class Stored(NamedTuple):
    """A stored ranking, clips named by display id."""

    order: list[str]
    """Best first."""
    flags: dict[str, list[str]]
    response_time_ms: int


def _stored(campaign: Campaign, annotator_id: str) -> list[Stored]:
    key = load_display_key(campaign.pool / "clips")
    assert key is not None
    stored = []
    with campaign.store.read() as session:
        query = select(Ranking).where(Ranking.annotator_id == annotator_id)
        for ranking in session.scalars(query).all():
            items = session.scalars(select(RankingItem).where(
                RankingItem.ranking_id == ranking.ranking_id).order_by(RankingItem.rank)).all()
            shown = {i.trajectory_id: clip_display_id(key, i.trajectory_id) for i in items}
            stored.append(Stored([shown[i.trajectory_id] for i in items],
                                 {shown[i.trajectory_id]: sorted(i.flags) for i in items
                                  if i.flags}, ranking.response_time_ms))
    return stored


def _next_set(page: Any, action: Callable[[], Any]) -> dict[str, Any]:
    with page.expect_response(lambda r: r.url.endswith("/api/ranking/next")) as reply:
        action()
    ranking: dict[str, Any] = reply.value.json()["ranking"]
    return ranking


def test_sets_ranked_by_keyboard_and_by_drag_land_with_flags(
        open_page: OpenPage, campaign: Campaign,
        screenshots: Callable[[Any, str], Any]) -> None:
    page, received = open_page("rank-1")
    first = _next_set(page, lambda: page.goto("/rank"))
    shown = [c["display_id"] for c in first["clips"]]
    assert 5 <= len(shown) <= 10
    expect(page.locator(".rank-card")).to_have_count(len(shown))
    assert _order(page) == shown
    assert "Alt" in page.locator(".keys").inner_text()

    page.focus(".rank-card >> nth=0")
    page.keyboard.press("d")  # A: 1 → 2
    page.keyboard.press("d")  # A: 2 → 3
    page.keyboard.press("Alt+ArrowUp")  # A: 3 → 2
    page.keyboard.press("g")  # flag A: gripper state wrong
    for _ in range(len(shown)):
        page.keyboard.press("ArrowDown")  # select the last clip
    page.keyboard.press("u")
    expected = [shown[1], shown[0], *shown[2:-2], shown[-1], shown[-2]]
    assert _order(page) == expected
    page.locator(".rank-card >> nth=0").locator("input[name=latent_failure]").check()
    assert page.locator(".rank-card >> nth=1 >> .position").inner_text() == "#2"
    screenshots(page, "ranking")
    second = _next_set(page, lambda: page.click("#submit-ranking"))
    assert second["ranking_id"] != first["ranking_id"]

    order = [c["display_id"] for c in second["clips"]]
    cards = page.locator(".rank-card")
    expect(cards).to_have_count(len(order))
    cards.nth(len(order) - 1).drag_to(cards.nth(0), target_position={"x": 4, "y": 40})
    moved = [order[-1], *order[:-1]]
    assert _order(page) == moved
    page.click("#view-single")  # the one-by-one viewer plays the selected clip
    expect(page.locator("#viewer video")).to_have_count(1)
    with page.expect_response(lambda r: r.url.endswith("/api/ranking/next")):
        page.click("#submit-ranking")
    expect(page.locator("#status .status-title")).to_have_text("No sets to rank")

    stored = {tuple(s.order): s for s in _stored(campaign, "rank-1")}
    assert set(stored) == {tuple(expected), tuple(moved)}
    keyed, dragged = stored[tuple(expected)], stored[tuple(moved)]
    assert keyed.flags == {shown[0]: ["gripper_state_wrong"], shown[1]: ["latent_failure"]}
    assert dragged.flags == {}
    assert keyed.response_time_ms > 0 and dragged.response_time_ms > 0
    assert len(received.json_replies("/api/ranking/submit")) == 2

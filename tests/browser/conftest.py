"""Browser tests: a real `robopref serve` process driven by Debian's headless Chromium.

Skipped, with the reason, only when /usr/bin/chromium is missing (`make test` installs it).
Every annotator page a test opens records what the browser receives, and the test fails
at teardown when any of it names a trajectory id, tier, source or expected answer.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from robopref.testing.serving import CHROMIUM, CHROMIUM_ARGS, serve_process

from .campaign import SECRET, Campaign, build_campaign
from .leaks import Received, leaks_in, record

VIEWPORT = {"width": 1440, "height": 900}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip this folder's tests when Debian's chromium is not installed."""
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is missing: run `make test` (its set-up "
                            "installs Debian's chromium) or `apt-get install chromium`")
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def campaign(tmp_path_factory: pytest.TempPathFactory) -> Campaign:
    """The store and rendered pool the server runs on."""
    return build_campaign(tmp_path_factory.mktemp("browser-campaign"))


@pytest.fixture(scope="session")
def server(campaign: Campaign, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL of a `robopref serve` subprocess on a free loopback port."""
    log = tmp_path_factory.mktemp("serve") / "serve.log"
    with serve_process(campaign.store.url, campaign.pool, secret=SECRET, log=log) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:  # playwright's Browser
    """Headless Debian chromium through Playwright (never `playwright install`)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                              headless=True)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Any, str], Path]:
    """Save a page's PNG under a tmp folder and, with ROBOPREF_SCREENSHOTS=dir, there too."""
    folder = tmp_path_factory.mktemp("screenshots")
    extra = os.environ.get("ROBOPREF_SCREENSHOTS")

    def take(page: Any, name: str) -> Path:
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        if extra:
            Path(extra).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(extra) / path.name)
        return path

    return take


@pytest.fixture
def open_page(browser: Any, server: str,
              campaign: Campaign) -> Iterator[Callable[[str | None], tuple[Any, Received]]]:
    """Open a fresh browser context, signed in as `annotator_id` (unless None), on no page.

    Returns the page and what it receives; at teardown an annotator's received replies
    are checked for leaks.
    """
    opened: list[tuple[Any, Received, str | None]] = []

    def open_as(annotator_id: str | None) -> tuple[Any, Received]:
        context = browser.new_context(base_url=server, viewport=VIEWPORT)
        context.set_default_timeout(15_000)
        received = Received()
        record(context, received)
        page = context.new_page()
        page.on("dialog", lambda dialog: dialog.accept())
        if annotator_id is not None:  # the context's cookie jar takes the session cookie
            reply = context.request.post("/api/session",
                                         data={"token": campaign.tokens[annotator_id]})
            assert reply.ok, reply.text()
        opened.append((context, received, annotator_id))
        return page, received

    yield open_as
    problems = []
    for context, received, annotator_id in opened:
        context.close()
        if annotator_id is not None and annotator_id != "lead":
            problems += leaks_in(received, campaign)
    assert not problems, problems[:10]

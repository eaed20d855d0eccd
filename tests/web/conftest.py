"""Fixtures for the web app: a rendered tiny pool, a store with one batch, and clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from robopref.pairs import PairBatch, PairsConfig, select_pairs
from robopref.render import RenderConfig, render_pool
from robopref.store import Store, add_annotator, create_batch, sync_trajectories
from robopref.web import Settings, create_app
from robopref.web.deps import CSRF_HEADER

SECRET = "test-secret-0123456789abcdef"
ANNOTATORS = ("ann-1", "ann-2")
FAST = RenderConfig(workers=1, width=128, height=128, force_strip_height=24, font_size=10)


@dataclass(frozen=True)
class Campaign:
    """A store with one production batch over a rendered pool, and the annotators' tokens."""

    store: Store
    pool: Path
    manifest: pd.DataFrame
    batch: PairBatch
    tokens: dict[str, str]


@pytest.fixture(scope="module")
def rendered_pool(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """A 12-trajectory tiny pool with its review clips rendered (once per module)."""
    import robopref.pool
    from robopref.testing import tiny_pool

    root = tiny_pool(tmp_path_factory.mktemp("web") / "pool", n=12).root
    render_pool(root, FAST)
    return root, robopref.pool.open(root).manifest


@pytest.fixture
def campaign(store: Store, rendered_pool: tuple[Path, pd.DataFrame]) -> Campaign:
    """Trajectories synced, a 6-pair batch for ann-1 and ann-2, and an unassigned outsider."""
    root, manifest = rendered_pool
    sync_trajectories(store, manifest)
    batch = select_pairs(manifest, PairsConfig(batch_size=6, annotators_per_pair=2,
                                               duplicate_frac=0.0), annotator_ids=ANNOTATORS)
    create_batch(store, batch)
    tokens = {a: add_annotator(store, a) for a in (*ANNOTATORS, "outsider")}
    return Campaign(store, root, manifest, batch, tokens)


@pytest.fixture
def app_client(campaign: Campaign) -> Iterator[TestClient]:
    """A TestClient over the real app on the campaign's store (lifespan run)."""
    settings = Settings(db_url=campaign.store.url, pool=campaign.pool, secret=SECRET)  # type: ignore[arg-type]
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def sign_in(app_client: TestClient, campaign: Campaign) -> Callable[[str], dict[str, str]]:
    """Sign `app_client` in as an annotator; returns the CSRF header to send on writes."""

    def login(annotator_id: str) -> dict[str, str]:
        reply = app_client.post("/api/session", json={"token": campaign.tokens[annotator_id]})
        assert reply.status_code == 200, reply.text
        return {CSRF_HEADER: reply.json()["csrf_token"]}

    return login

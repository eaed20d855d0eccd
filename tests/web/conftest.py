"""Fixtures for the web app: a rendered tiny pool, a store with one batch, and clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from robopref.pairs import PairBatch, PairsConfig, select_calibration_sets, select_pairs
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


def certify(store: Store, *annotator_ids: str) -> None:
    """Mark annotators certified (as a passed calibration attempt would) without an attempt."""
    from sqlalchemy import update

    from robopref.store.models import Annotator

    with store.write() as session:
        session.execute(update(Annotator).where(Annotator.annotator_id.in_(annotator_ids))
                        .values(certified=True))


@pytest.fixture
def certified(campaign: Campaign) -> Campaign:
    """The campaign with ann-1 and ann-2 certified, so they are served the production batch.

    Uncertified annotators are served calibration sets only (the `campaign` fixture's are
    not certified); a test module that drives production pairs through the API marks
    itself `pytestmark = pytest.mark.usefixtures("certified")`.
    """
    certify(campaign.store, *ANNOTATORS)
    return campaign


TRAINEE = "trainee"
"""A new annotator holding the first calibration set (`calibration` fixture)."""


@pytest.fixture
def calibration(campaign: Campaign) -> tuple[str, ...]:
    """Two calibration sets of 4 pairs (after the production batch); `trainee` holds the first.

    Returns the sets' batch ids, first to last; the trainee's token joins `campaign.tokens`.
    """
    from robopref.campaign import start_calibration

    config = PairsConfig(calibration_size=4, calibration_sets=2)
    sets = select_calibration_sets(campaign.manifest, config)
    for calibration_set in sets:
        create_batch(campaign.store, calibration_set.batch)
    campaign.tokens[TRAINEE] = add_annotator(campaign.store, TRAINEE)
    assert start_calibration(campaign.store, TRAINEE) == sets[0].batch.batch_id
    return tuple(s.batch.batch_id for s in sets)


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

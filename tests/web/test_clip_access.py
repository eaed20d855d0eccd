"""Clips only for the pairs and ranking sets handed to the caller (404 otherwise)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from robopref.pairs import PairsConfig, select_ranking_sets
from robopref.pairs.records import AssignmentSpec
from robopref.store import Role, add_annotator, add_assignments, create_batch
from robopref.store.clip_access import may_watch
from robopref.web.clip_access import ClipAccess

from .conftest import Campaign

pytestmark = pytest.mark.usefixtures("certified")


def test_another_annotators_clip_is_404_until_the_pair_is_assigned(
    app_client: TestClient, sign_in: Callable[..., Any], campaign: Campaign
) -> None:
    sign_in("ann-1")
    item = app_client.get("/api/next").json()["assignment"]
    url = item["left"]["clip_url"]
    assert app_client.get(url).status_code == 200
    sign_in("outsider")
    refused = app_client.get(url, headers={"Range": "bytes=0-99"})
    assert refused.status_code == 404 and refused.json() == {"detail": "no such clip"}
    pair = campaign.batch.pairs[0]
    trajectory_id = pair.trajectory_a_id
    add_assignments(campaign.store, campaign.batch.batch_id, (
        AssignmentSpec(pair_id=pair.pair_id, annotator_id="outsider",
                       left_trajectory_id=trajectory_id),))
    shown = app_client.app.state.clip_index.display_id(trajectory_id)  # type: ignore[attr-defined]
    assert app_client.get(f"/clips/{shown}.mp4").status_code == 200


def test_an_admin_may_watch_every_clip(
    app_client: TestClient, sign_in: Callable[..., Any], campaign: Campaign
) -> None:
    campaign.tokens["lead"] = add_annotator(campaign.store, "lead", Role.ADMIN)
    sign_in("lead")
    index = app_client.app.state.clip_index  # type: ignore[attr-defined]
    for trajectory_id in campaign.manifest["trajectory_id"][:3]:
        assert app_client.get(f"/clips/{index.display_id(trajectory_id)}.mp4").status_code == 200


def test_ranking_set_members_may_be_watched_by_their_ranker(campaign: Campaign) -> None:
    config = PairsConfig(ranking_set_size=5, annotators_per_pair=2)
    ranking = select_ranking_sets(campaign.manifest, config, annotator_ids=["outsider", "ranker"],
                                  n_sets=1)
    create_batch(campaign.store, ranking)
    members = ranking.ranking_sets[0].trajectory_ids
    outside = set(campaign.manifest["trajectory_id"]) - set(members)
    outside -= {t for p in campaign.batch.pairs for t in (p.trajectory_a_id, p.trajectory_b_id)}
    assert all(may_watch(campaign.store, "outsider", t) for t in members)
    assert not any(may_watch(campaign.store, "outsider", t) for t in outside)
    ann_1 = {t for p in campaign.batch.pairs for t in (p.trajectory_a_id, p.trajectory_b_id)}
    assert [may_watch(campaign.store, "ann-1", t) for t in members] == [
        t in ann_1 for t in members]  # the set is not ann-1's: only their pairs' clips


def test_grants_are_remembered_and_refusals_are_not(campaign: Campaign) -> None:
    access = ClipAccess(campaign.store, max_remembered=2)
    pair = campaign.batch.pairs[0]
    assert access.allowed("ann-1", pair.trajectory_a_id)
    assert not access.allowed("outsider", pair.trajectory_a_id)
    add_assignments(campaign.store, campaign.batch.batch_id, (
        AssignmentSpec(pair_id=pair.pair_id, annotator_id="outsider",
                       left_trajectory_id=pair.trajectory_a_id),))
    assert access.allowed("outsider", pair.trajectory_a_id)  # a refusal was not cached
    campaign.store.dispose()  # remembered grants need no query
    assert access.allowed("ann-1", pair.trajectory_a_id)

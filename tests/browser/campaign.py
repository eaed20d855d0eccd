"""The browser tests' campaign: a tiny rendered pool, a store with every kind of batch, tokens."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from robopref.pairs import (
    CalibrationSet,
    PairBatch,
    PairsConfig,
    select_calibration_sets,
    select_pairs,
    select_ranking_sets,
)
from robopref.render import RenderConfig, render_pool
from robopref.store import (
    Store,
    add_annotator,
    assignments_frame,
    create_batch,
    open_store,
    pairs_frame,
    record_certification,
    sync_trajectories,
)
from robopref.web.signing import display_id

SECRET = "browser-secret-0123456789abcdef"
"""ROBOPREF_SECRET of the test server (the tests derive assignment ids with it)."""
FAST = RenderConfig(workers=1, width=256, height=256, force_strip_height=32, font_size=12)
"""Small clips: 4 s each (2 s of motion, the 2 s end freeze)."""
NEWCOMERS = ("cal-1",)
"""Uncertified: served the first calibration set."""
CERTIFIED = ("mouse-1", "keys-1", "net-1", "sync-1", "walk-1", "peek-1", "seed-1")
"""Certified at set-up: served the production batch."""
RANKERS = ("rank-1", "rank-2")
"""Certified, with the two ranking sets (each ranks both)."""
ADMIN = "lead"
"""The campaign's admin."""


@dataclass(frozen=True)
class Campaign:
    """What the tests need to know about the server's store (and must never see in a page)."""

    store: Store
    pool: Path
    manifest: pd.DataFrame
    tokens: dict[str, str]
    calibration: tuple[CalibrationSet, ...]
    production: PairBatch
    ranking: PairBatch

    def assignment_id(self, pair_id: str) -> str:
        """The opaque id the server shows for `pair_id`."""
        return display_id(SECRET, "pair", pair_id)

    def expert_side(self, annotator_id: str, assignment_id: str) -> str:
        """`left` or `right`: where the expected answer of a gold/calibration pair was shown."""
        pair_id = self.pair_id(assignment_id)
        pairs = pairs_frame(self.store).set_index("pair_id")
        expected = pairs.loc[pair_id, "expected_preference"]
        better = pairs.loc[pair_id, "trajectory_a_id" if expected == "A" else "trajectory_b_id"]
        shown = assignments_frame(self.store).set_index(["pair_id", "annotator_id"])
        return "left" if shown.loc[(pair_id, annotator_id), "left_trajectory_id"] == better \
            else "right"

    def pair_id(self, assignment_id: str) -> str:
        """The pair behind an opaque assignment id (searching every batch)."""
        batches = (*(s.batch for s in self.calibration), self.production)
        for batch in batches:
            for pair in batch.pairs:
                if self.assignment_id(pair.pair_id) == assignment_id:
                    return pair.pair_id
        raise KeyError(assignment_id)


def build_campaign(root: Path) -> Campaign:
    """Render a 12-trajectory pool and prepare a store: calibration, production, ranking."""
    import robopref.pool
    from robopref.testing import tiny_pool

    pool = tiny_pool(root / "pool", n=12).root
    render_pool(pool, FAST)
    manifest = robopref.pool.open(pool).manifest
    store = open_store(f"sqlite:///{root / 'robopref.db'}")
    sync_trajectories(store, manifest)
    tokens = {a: add_annotator(store, a) for a in (*NEWCOMERS, *CERTIFIED, *RANKERS)}
    tokens[ADMIN] = add_annotator(store, ADMIN, "admin")
    sets = select_calibration_sets(
        manifest, PairsConfig(calibration_size=4, calibration_sets=2), annotator_ids=NEWCOMERS)
    for calibration_set in sets:
        create_batch(store, calibration_set.batch)
    for annotator_id in (*CERTIFIED, *RANKERS):
        record_certification(store, annotator_id=annotator_id, kappa=0.9, passed=True,
                             calibration_batch_id=sets[0].batch.batch_id)
    production = replace(select_pairs(
        manifest, PairsConfig(batch_size=12, annotators_per_pair=2, duplicate_frac=0.0),
        annotator_ids=(*CERTIFIED, *NEWCOMERS)), rubric=True)
    create_batch(store, production)
    ranking = select_ranking_sets(
        manifest, PairsConfig(ranking_set_size=5, annotators_per_pair=2, seed=3),
        annotator_ids=RANKERS, n_sets=2)
    create_batch(store, ranking)
    return Campaign(store, pool, manifest, tokens, sets, production, ranking)

"""`truth`: simulated annotators answer from quality_score or from the simulator's return."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from tests.campaign.test_campaign import SMALL
from tests.teachers.conftest import rewarded_pool
from typer.testing import CliRunner

from robopref.campaign import run_simulated_campaign
from robopref.cli import app
from robopref.errors import InputError
from robopref.store import Store, annotations_frame, open_store


def _follows(prefs: pd.DataFrame, manifest: pd.DataFrame, column: str) -> pd.Series:
    value = manifest.set_index("trajectory_id")[column]
    a, b = value[prefs["trajectory_a_id"]].to_numpy(), value[prefs["trajectory_b_id"]].to_numpy()
    a_better = a > b
    return pd.Series((prefs["preference"].to_numpy() == 1.0) == a_better, index=prefs.index)


def _campaign(manifest: pd.DataFrame, truth: str, folder: Path) -> pd.DataFrame:
    store = open_store(f"sqlite:///{folder / truth}.db")  # both databases: test_campaign.py
    try:
        config = replace(SMALL, truth=truth)
        result = run_simulated_campaign(store, manifest, config, out_dir=folder / truth)
        return result.qa.preferences
    finally:
        store.dispose()


def test_annotators_answer_from_the_chosen_truth(tmp_path: Path) -> None:
    manifest = rewarded_pool(tmp_path / "pool", n=40).manifest
    by_return = _campaign(manifest, "true_return", tmp_path)
    by_score = _campaign(manifest, "quality_score", tmp_path)
    for prefs, column in ((by_return, "true_return"), (by_score, "quality_score")):
        decided = prefs[prefs["preference"] != 0.5]
        other_column = "quality_score" if column == "true_return" else "true_return"
        disagree = _follows(decided, manifest, column) != _follows(decided, manifest, other_column)
        split = decided[disagree.to_numpy()]  # pairs the two truths order differently
        message = f"{column}: {len(split)} of {len(decided)} pairs where the truths disagree"
        assert len(split) >= 5, message
        assert _follows(split, manifest, column).mean() >= 0.8, message


def test_a_pool_without_the_return_is_refused_before_the_store_changes(
    store: Store, tmp_path: Path
) -> None:
    manifest = rewarded_pool(tmp_path / "pool", n=8).manifest.assign(true_return=None)
    with pytest.raises(InputError) as info:
        run_simulated_campaign(store, manifest, replace(SMALL, truth="true_return"),
                               out_dir=tmp_path / "qa")  # fmt: skip
    assert info.value.field == "true_return"
    assert annotations_frame(store).empty
    with pytest.raises(ValueError, match="truth"):
        replace(SMALL, truth="reward")


def test_cli_truth_flags(tmp_path: Path) -> None:
    pool = rewarded_pool(tmp_path / "pool", n=8)
    runner = CliRunner()
    result = runner.invoke(app, ["annotate", "simulate", "--db", f"sqlite:///{tmp_path}/a.db",
                                 "--batch", "b1", "--truth", "true_return"])  # fmt: skip
    assert result.exit_code == 2 and "--pool: truth: true_return" in result.output
    result = runner.invoke(app, ["campaign", "simulate", str(pool.root), "--truth", "bogus",
                                 "--db", f"sqlite:///{tmp_path}/c.db"])  # fmt: skip
    assert result.exit_code == 2 and "bogus" in result.output
    assert "--truth" in runner.invoke(app, ["campaign", "simulate", "--help"]).output

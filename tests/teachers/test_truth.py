"""Ground truth from quality_score (the default, unchanged) or the simulator's true_return."""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq
import pytest

import robopref.pool as rp
from robopref.errors import InputError
from robopref.pool import Pool
from robopref.teachers import TruthColumn, truth_from_frame, truth_from_pool


def test_true_return_is_normalised_within_each_task(rewarded: Pool) -> None:
    manifest = rewarded.manifest
    truth = truth_from_pool(rewarded.root, truth="true_return")
    for _, rows in manifest.groupby("task"):
        values = rows.set_index("trajectory_id")["true_return"]
        scores = pd.Series({t: truth.score[t] for t in values.index})
        assert scores.min() == 0.0 and scores.max() == 1.0  # each task spans [0, 1] ...
        assert scores.rank().equals(values.rank())  # ... in the order of its own returns
    assert set(truth.progress) == set(truth.score)  # myopic teachers keep their progress


def test_quality_score_stays_the_default_over_the_whole_pool(rewarded: Pool) -> None:
    manifest = rewarded.manifest
    default = truth_from_frame(manifest)
    assert default == truth_from_frame(manifest, TruthColumn.QUALITY_SCORE)
    best = manifest.loc[manifest["quality_score"].idxmax(), "trajectory_id"]
    worst = manifest.loc[manifest["quality_score"].idxmin(), "trajectory_id"]
    assert default.score[best] == 1.0 and default.score[worst] == 0.0
    per_task_max = [max(default.score[t] for t in rows["trajectory_id"])
                    for _, rows in manifest.groupby("task")]  # fmt: skip
    assert sorted(per_task_max)[0] < 1.0  # one scale over the pool: not every task reaches 1
    assert default != truth_from_frame(manifest, "true_return")


def test_a_pool_without_the_simulator_return_is_refused_naming_true_return(
    rewarded: Pool,
) -> None:
    manifest = rewarded.root / "manifest.parquet"  # a pool written before the column
    pq.write_table(pq.read_table(manifest).drop_columns(["true_return"]), manifest)
    with pytest.raises(InputError) as info:
        truth_from_pool(rewarded.root, truth="true_return")
    assert info.value.field == "true_return" and info.value.path == str(manifest)
    assert f"null for {len(rewarded)} trajectories" in info.value.message
    assert truth_from_pool(rewarded.root).score  # quality_score still answers
    partly = rp.open(rewarded.root).manifest.copy()
    partly.loc[3, "true_return"] = None
    with pytest.raises(InputError, match="true_return"):
        truth_from_frame(partly, "true_return")
    with pytest.raises(InputError, match="true_return"):
        truth_from_frame(partly.drop(columns="true_return"), "true_return")
    with pytest.raises(InputError, match="must be one of"):
        truth_from_frame(partly, "return")

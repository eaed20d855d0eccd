"""The simulator's return: padded to the horizon with the final reward, None without a series."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

import robopref.pool as rp
from robopref.errors import InputError
from robopref.pool.manifest import read_manifest
from robopref.pool.true_return import true_return
from robopref.testing import synthetic_trajectory


def _with_reward(reward: list[float] | None, horizon_s: float | None) -> rp.Trajectory:
    base = synthetic_trajectory(
        "t0", quality=0.8, rng=np.random.default_rng(0), n_steps=len(reward or [0] * 4),
        frame_size=None, fps=10.0,
    )
    meta = dict(base.metadata)
    meta.pop("horizon_s", None)
    if horizon_s is not None:
        meta["horizon_s"] = horizon_s
    series = None if reward is None else np.array(reward, np.float32)
    return dataclasses.replace(base, env_reward=series, metadata=meta)


def test_padded_to_the_horizon_with_the_final_reward() -> None:
    assert true_return(_with_reward([1.0, 2.0, 3.0, 4.0], None)) == pytest.approx(10.0)
    # a 1 s horizon at 10 fps is 10 steps: 6 more at the final reward 4
    assert true_return(_with_reward([1.0, 2.0, 3.0, 4.0], 1.0)) == pytest.approx(34.0)
    # a horizon shorter than the episode adds nothing
    assert true_return(_with_reward([1.0, 2.0, 3.0, 4.0], 0.2)) == pytest.approx(10.0)


def test_fast_success_beats_slow_success_once_padded() -> None:
    fast = true_return(_with_reward([0.0, 10.0, 10.0, 10.0], 0.8))
    slow = true_return(_with_reward([0.0, 0.0, 0.0, 0.0, 0.0, 10.0, 10.0, 10.0], 0.8))
    assert fast is not None and slow is not None and fast > slow


def test_none_without_a_reward_series() -> None:
    assert true_return(_with_reward(None, 1.0)) is None


def test_reward_series_is_validated() -> None:
    with pytest.raises(InputError, match="env_reward"):
        _with_reward([1.0, float("nan"), 0.0, 0.0], None)
    with pytest.raises(InputError, match="env_reward"):
        dataclasses.replace(_with_reward(None, None), env_reward=np.zeros(3, np.float32))


def test_round_trip_and_a_pool_written_before_the_column(tmp_path: Path) -> None:
    pool = rp.append_to_pool(tmp_path / "pool", [_with_reward([1.0, 2.0, 3.0, 4.0], None)])
    np.testing.assert_array_equal(pool["t0"].env_reward, [1.0, 2.0, 3.0, 4.0])
    manifest = tmp_path / "pool" / "manifest.parquet"
    assert read_manifest(manifest)["true_return"].tolist() == [pytest.approx(10.0)]
    pq.write_table(pq.read_table(manifest).drop_columns(["true_return"]), manifest)  # older pool
    assert read_manifest(manifest)["true_return"].isna().all()
    assert rp.open(tmp_path / "pool")["t0"].env_reward is not None

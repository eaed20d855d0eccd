"""Reward-hacking probes: a planted length hack is flagged, an honest scorer is not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from robopref.pool import Pool
from robopref.validate import validate
from robopref.validate.probes import frame_motion, probe, probe_sample


def _probe(report: Any, name: str) -> Any:
    return next(p for p in report.probes if p.name == name)


def test_length_hacking_scorer_is_flagged_by_the_length_probe(
    pool_with_frames: Pool, length_scorer: Any, tmp_path: Path
) -> None:
    report = validate(pool_with_frames, tmp_path / "val", scorer=length_scorer)
    length = _probe(report, "length")
    assert length.rho_reward == 1.0
    assert length.flagged
    assert "length" in report.flagged
    assert "length" in report.to_json()["flagged_probes"]


def test_honest_scorer_is_not_flagged(
    pool_with_frames: Pool, honest_scorer: Any, tmp_path: Path
) -> None:
    report = validate(pool_with_frames, tmp_path / "val", scorer=honest_scorer)
    assert report.flagged == []
    assert all(p.rho_reward is not None for p in report.probes)


def test_a_reward_as_strong_as_the_truth_on_a_feature_is_not_flagged() -> None:
    x = np.arange(20.0)
    # the ground truth itself follows the feature: a reward that does too is no hack
    honest = probe(
        "length", feature="steps", values=x, reward=x, truth=x, threshold=0.5, margin=0.1
    )
    assert not honest.flagged and honest.excess == 0.0
    # but following it the opposite way is
    opposite = probe(
        "length", feature="steps", values=x, reward=-x, truth=x, threshold=0.5, margin=0.1
    )
    assert opposite.flagged and opposite.excess == 2.0


def test_weak_correlations_are_never_flagged() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal(200)
    weak = probe(
        "gripper_closed",
        feature="closed fraction",
        values=x,
        reward=0.2 * x + rng.standard_normal(200),
        truth=rng.standard_normal(200),
        threshold=0.5,
        margin=0.1,
    )
    assert weak.rho_reward is not None and abs(weak.rho_reward) < 0.5
    assert not weak.flagged


def test_frame_motion_measures_mean_absolute_frame_difference() -> None:
    frames = np.zeros((3, 4, 4, 3), np.uint8)
    frames[1] = 10
    frames[2] = 40
    assert frame_motion(frames) == (10 + 30) / 2


def test_stillness_probe_sample_spans_the_reward_ranking() -> None:
    picks = probe_sample(np.arange(100), 5)
    assert picks.tolist() == [0, 25, 50, 74, 99]

"""Ranking accuracy and calibration on hand-made inputs with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from robopref.validate.ranking import calibration, evaluate_ranking, group_accuracy, sigmoid


def test_accuracy_excludes_ties_and_counts_exact_reward_ties_half() -> None:
    prob = np.array([0.8, 0.3, 0.5, 0.9, 0.6])
    pref = np.array([1.0, 1.0, 0.0, 0.5, 0.0])
    g = group_accuracy(prob, pref, tie_band=0.05)
    # decisive: 0.8→A ✓, 0.3→B ✗, 0.5 exact → ½, 0.6→A ✗ (truth B)
    assert g.accuracy == pytest.approx(1.5 / 4)
    assert g.n_ties == 1
    assert g.n_pairs == 5


def test_accuracy_with_ties_uses_the_tie_band() -> None:
    prob = np.array([0.55, 0.45, 0.9, 0.1, 0.58])
    pref = np.array([0.5, 0.5, 1.0, 1.0, 1.0])
    # band 0.1: 0.55, 0.45, 0.58 predicted ties → ✓, ✓, ✗; 0.9 ✓; 0.1 ✗
    assert group_accuracy(prob, pref, tie_band=0.1).accuracy_with_ties == pytest.approx(3 / 5)
    # band 0: nothing is predicted a tie, so both tie labels are missed
    assert group_accuracy(prob, pref, tie_band=0.0).accuracy_with_ties == pytest.approx(2 / 5)


def test_accuracy_is_none_without_decisive_pairs() -> None:
    g = group_accuracy(np.array([0.5]), np.array([0.5]), tie_band=0.1)
    assert g.accuracy is None
    assert g.accuracy_with_ties == 1.0


def test_ece_of_a_calibrated_predictor_is_zero_and_of_an_overconfident_one_is_known() -> None:
    # 10 pairs at P = 0.7 of which 7 prefer A: perfectly calibrated
    prob = np.full(10, 0.7)
    pref = np.array([1.0] * 7 + [0.0] * 3)
    assert calibration(prob, pref, n_bins=10).ece == pytest.approx(0.0, abs=1e-12)
    # P = 0.95 but only half prefer A: ECE = 0.45
    c = calibration(np.full(4, 0.95), np.array([1.0, 0.0, 1.0, 0.0]), n_bins=10)
    assert c.ece == pytest.approx(0.45)
    assert [b.n_pairs for b in c.bins][-1] == 4
    assert sum(b.n_pairs for b in c.bins) == 4


def test_calibration_counts_ties_as_half_and_puts_one_in_the_last_bin() -> None:
    c = calibration(np.array([1.0, 0.0]), np.array([0.5, 0.5]), n_bins=4)
    assert c.bins[0].observed == 0.5 and c.bins[-1].observed == 0.5
    assert c.ece == pytest.approx(0.5)


def test_evaluate_ranking_groups_by_task_quartile_pairing_and_stratum() -> None:
    manifest = pd.DataFrame(
        {
            "trajectory_id": ["a", "b", "c", "d"],
            "task": ["t1", "t1", "t2", "t2"],
            "quartile": [1, 2, 4, 4],
        }
    )
    rewards = {"a": 0.0, "b": 1.0, "c": 3.0, "d": 2.0}
    pairs = pd.DataFrame(
        {
            "trajectory_a_id": ["b", "a", "c", "a"],
            "trajectory_b_id": ["a", "b", "d", "c"],
            "preference": [1.0, 1.0, 1.0, 0.0],
            "task": [None, None, None, "mixed"],
        }
    )
    m = evaluate_ranking(rewards, pairs, manifest, tie_band=0.05, calibration_bins=5)
    assert m.overall.accuracy == pytest.approx(3 / 4)
    assert m.by_task["t1"].accuracy == pytest.approx(1 / 2)
    assert m.by_task["t2"].accuracy == 1.0
    assert m.by_task["mixed"].n_pairs == 1
    assert set(m.by_quartile_pair) == {"Q1-Q2", "Q4-Q4", "Q1-Q4"}
    assert m.by_quartile_pair["Q1-Q2"].n_pairs == 2
    assert m.by_stratum["same"].n_pairs == 1 and m.by_stratum["distant"].n_pairs == 1
    assert m.calibration.ece is not None


def test_sigmoid_matches_the_logistic_function() -> None:
    x = np.linspace(-5, 5, 11)
    np.testing.assert_allclose(sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-12)

"""Overlap measures and Spearman correlations with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from robopref.validate.distribution import auc, evaluate_distribution, overlap_coefficient


def _manifest(n: int = 8) -> pd.DataFrame:
    tiers = ["random", "random", "scripted", "scripted", "novice", "novice", "expert", "expert"]
    return pd.DataFrame(
        {
            "trajectory_id": [f"t{i}" for i in range(n)],
            "task": ["reach"] * n,
            "source": tiers[:n],
            "tier": tiers[:n],
            "quality_score": np.arange(n, dtype=float),
            "success": [False] * 4 + [True] * 4,
            "success_known": [True] * n,
            "path_efficiency": np.linspace(0.2, 0.9, n),
            "progress": [None] * n,
            "final_goal_distance_m": np.linspace(0.3, 0.0, n),
            "quartile": [1, 1, 2, 2, 3, 3, 4, 4],
        }
    )


def test_auc_counts_wins_and_half_ties() -> None:
    assert auc(np.array([2.0, 0.0]), np.array([1.0])) == 0.5
    assert auc(np.array([1.0]), np.array([1.0, 0.0])) == 0.75


def test_overlap_coefficient_of_half_shifted_uniforms_is_one_half() -> None:
    x = np.arange(0, 100) / 100.0
    y = x + 0.5
    assert overlap_coefficient(x, y, bins=30) == pytest.approx(0.5, abs=0.02)


def test_spearman_against_ground_truth_columns_matches_scipy() -> None:
    manifest = _manifest()
    reward = np.array([0.0, 2.0, 1.0, 3.0, 5.0, 4.0, 7.0, 6.0])
    d = evaluate_distribution(reward, manifest, bins=10, min_auc=0.9)
    expected = stats.spearmanr(reward, manifest["quality_score"]).statistic
    assert d.correlations["quality_score"].rho == pytest.approx(expected)
    assert d.correlations["final_goal_distance_m"].rho == pytest.approx(-expected)
    assert d.correlations["final_goal_distance_m"].expected_sign == -1
    assert "progress" not in d.correlations
    assert any("progress" in note for note in d.notes)


def test_expert_vs_random_separation_is_measured() -> None:
    manifest = _manifest()
    good = evaluate_distribution(np.arange(8.0), manifest, bins=10, min_auc=0.9)
    assert good.expert_vs_random is not None
    assert good.expert_vs_random.auc == 1.0 and good.expert_vs_random.separated
    assert good.expert_vs_random.overlap_coefficient == 0.0
    flat = evaluate_distribution(np.zeros(8), manifest, bins=10, min_auc=0.9)
    assert flat.expert_vs_random is not None
    assert flat.expert_vs_random.auc == 0.5 and not flat.expert_vs_random.separated
    assert flat.correlations["quality_score"].rho is None  # constant reward


def test_success_is_correlated_only_where_known() -> None:
    manifest = _manifest()
    manifest["success_known"] = [True, True, True, False, False, True, True, True]
    d = evaluate_distribution(np.arange(8.0), manifest, bins=10, min_auc=0.9)
    assert d.correlations["success"].n == 6


def test_a_pool_without_experts_notes_the_missing_overlap() -> None:
    manifest = _manifest()
    manifest["tier"] = manifest["source"] = "novice"
    d = evaluate_distribution(np.arange(8.0), manifest, bins=10, min_auc=0.9)
    assert d.expert_vs_random is None
    assert any("expert vs random" in note for note in d.notes)
    assert d.top_vs_bottom_quartile is not None and d.top_vs_bottom_quartile.auc == 1.0

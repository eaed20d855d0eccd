"""Learning curves: interpolation onto a grid, labels to a target, the scaling exponent, plots."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from robopref.campaign.curves import (
    labels_to_reach,
    learning_curves,
    plot_curves,
    scaling_exponent,
)


def _runs(strategy: str, alpha: float, seeds: int = 3) -> pd.DataFrame:
    rows = []
    for seed in range(seeds):
        for n in (200, 340, 490, 640, 790, 995):  # a budget of 1,000 ends 5 labels short
            acc = 0.5 * (n / 100) ** alpha + 0.01 * (seed - 1)
            rows.append({"strategy": strategy, "seed": seed, "human_labels": n,
                         "accuracy": acc, "rho": acc - 0.05})  # fmt: skip
    return pd.DataFrame(rows)


def test_curves_average_runs_on_a_common_grid() -> None:
    curve = learning_curves(_runs("random", 0.2), grid=[200, 500, 1000])
    assert curve["runs"].tolist() == [3, 3, 3]  # 1,000 counts: 995 is within the slack
    at_500 = curve.loc[curve["human_labels"] == 500, "accuracy_mean"].iloc[0]
    expected = np.interp(500, [490, 640], [0.5 * 4.9**0.2, 0.5 * 6.4**0.2])
    assert at_500 == pytest.approx(expected)
    assert curve["accuracy_std"].gt(0).all()
    assert learning_curves(_runs("random", 0.2), grid=[1200])["runs"].tolist() == []


def test_labels_to_reach_interpolates_and_says_never() -> None:
    curve = learning_curves(_runs("active", 0.3), grid=list(range(200, 1001, 100)))
    target = float(curve.loc[curve["human_labels"] == 600, "accuracy_mean"].iloc[0])
    assert labels_to_reach(curve, "active", target) == pytest.approx(600, abs=1)
    assert labels_to_reach(curve, "active", 0.0) == 200
    assert labels_to_reach(curve, "active", 2.0) is None


def test_scaling_exponent_recovers_the_power_law() -> None:
    both = pd.concat([_runs("random", 0.2), _runs("active", 0.3)])
    curve = learning_curves(both, grid=list(range(200, 1001, 50)))
    assert scaling_exponent(curve, "random") == pytest.approx(0.2, abs=0.02)
    assert scaling_exponent(curve, "active") == pytest.approx(0.3, abs=0.02)


def test_plot_writes_a_png(tmp_path: Path) -> None:
    curve = learning_curves(_runs("random", 0.2), grid=[200, 600, 1000])
    path = plot_curves(curve, tmp_path / "c.png", title="t", target=0.8)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

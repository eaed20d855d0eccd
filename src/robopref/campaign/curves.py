"""Learning curves of label-efficiency runs: mean ± spread over seeds, labels to a target, α.

Every run's per-round accuracy is interpolated onto one grid of human labels, so runs whose
rounds ended at slightly different counts (QA drops, routing top-ups) average point by point.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

END_SLACK = 0.02
"""Share of a grid point a run's last round may fall short of it and still count there."""

CURVE_COLUMNS = (
    "strategy", "human_labels", "accuracy_mean", "accuracy_std", "rho_mean", "rho_std", "runs",
)  # fmt: skip


def learning_curves(rounds: pd.DataFrame, grid: Sequence[int]) -> pd.DataFrame:
    """Mean and standard deviation over runs of accuracy and ρ at each grid point.

    Args:
        rounds: Rows of `campaign.loop.ROUND_COLUMNS` from any number of runs (a run is a
            (strategy, seed) pair, plus `task` when present).
        grid: Human-label counts; a run contributes where its rounds span the point (its
            last round may end up to `END_SLACK` short of it: a budget is rarely spent to
            the label, since pairs come in whole annotator groups).
    """
    keys = [k for k in ("strategy", "seed", "task") if k in rounds.columns]
    rows = []
    for strategy, by_strategy in rounds.groupby("strategy", sort=False):
        runs = [r.sort_values("human_labels") for _, r in by_strategy.groupby(keys[1:])]
        for n in grid:
            acc, rho = [], []
            for run in runs:
                x = run["human_labels"].to_numpy(float)
                if x[0] <= n <= x[-1] + END_SLACK * n:
                    acc.append(float(np.interp(n, x, run["accuracy"].to_numpy(float))))
                    rho.append(float(np.interp(n, x, run["rho"].to_numpy(float))))
            if acc:
                rows.append((strategy, int(n), float(np.mean(acc)), float(np.std(acc)),
                             float(np.mean(rho)), float(np.std(rho)), len(acc)))  # fmt: skip
    return pd.DataFrame(rows, columns=list(CURVE_COLUMNS))


def labels_to_reach(curve: pd.DataFrame, strategy: str, target: float) -> float | None:
    """Fewest human labels at which `strategy`'s mean accuracy reaches `target`.

    Interpolated between grid points; None if the curve never reaches it.
    """
    rows = curve[curve["strategy"] == strategy].sort_values("human_labels")
    x, y = rows["human_labels"].to_numpy(float), rows["accuracy_mean"].to_numpy(float)
    above = np.flatnonzero(y >= target)
    if not len(above):
        return None
    i = int(above[0])
    if i == 0:
        return float(x[0])
    return float(x[i - 1] + (target - y[i - 1]) * (x[i] - x[i - 1]) / (y[i] - y[i - 1]))


def scaling_exponent(curve: pd.DataFrame, strategy: str) -> float:
    """α of accuracy ∝ N^α, least squares on log–log (seed 001: α ≈ 0.2–0.3)."""
    rows = curve[curve["strategy"] == strategy]
    if len(rows) < 2:
        return math.nan
    x = np.log(rows["human_labels"].to_numpy(float))
    y = np.log(rows["accuracy_mean"].to_numpy(float))
    return float(np.polyfit(x, y, 1)[0])


def plot_curves(
    curve: pd.DataFrame, path: Path, *, title: str, target: float | None = None
) -> Path:
    """Accuracy and ρ against human labels, one line per strategy with its ±1 σ band (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    for strategy, rows in curve.groupby("strategy", sort=False):
        x = rows["human_labels"].to_numpy(float)
        for ax, name in zip(axes, ("accuracy", "rho"), strict=True):
            mean, std = rows[f"{name}_mean"].to_numpy(), rows[f"{name}_std"].to_numpy()
            (line,) = ax.plot(x, mean, label=str(strategy))
            ax.fill_between(x, mean - std, mean + std, color=line.get_color(), alpha=0.15)
    if target is not None:
        axes[0].axhline(target, color="0.4", linestyle="--", linewidth=1, label="random @ 1,000")
    axes[0].set_ylabel("held-out accuracy")
    axes[1].set_ylabel("Spearman ρ")
    for ax in axes:
        ax.set_xlabel("human labels")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(title)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path

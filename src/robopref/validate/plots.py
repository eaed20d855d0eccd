"""Plots of the validation report: tier histograms, reliability diagram, reward vs truth.

Drawn with matplotlib's object API (no pyplot global state).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from robopref.validate.ranking import Calibration

TIER_ORDER = ("random", "scripted", "novice", "policy_checkpoint", "expert")
"""Tiers drawn worst to best; others follow alphabetically."""


def _tiers(manifest: pd.DataFrame) -> pd.Series:
    return (manifest["tier"] if "tier" in manifest.columns else manifest["source"]).astype(str)


def _ordered(names: list[str]) -> list[str]:
    known = [t for t in TIER_ORDER if t in names]
    return known + sorted(set(names) - set(known))


def plot_histograms(path: Path, reward: np.ndarray, manifest: pd.DataFrame, *, bins: int) -> Path:
    """Overlaid reward histograms per tier on shared bins (seed 004's distribution plot)."""
    tiers = _tiers(manifest)
    lo, hi = float(reward.min()), float(reward.max())
    edges = np.linspace(lo, hi if hi > lo else lo + 1.0, bins + 1)
    fig = Figure(figsize=(7, 4), dpi=100)
    ax = fig.add_subplot()
    for name in _ordered(tiers.unique().tolist()):
        ax.hist(reward[(tiers == name).to_numpy()], bins=edges.tolist(), alpha=0.5, label=name)
    ax.set_xlabel("reward")
    ax.set_ylabel("trajectories")
    ax.set_title("Reward by quality tier (whole pool)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, format="png")
    return path


def plot_reliability(path: Path, calibration: Calibration) -> Path:
    """Reliability diagram: observed preference rate against mean P(A≻B) per bin."""
    fig = Figure(figsize=(4.5, 4.5), dpi=100)
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfect")
    full = [b for b in calibration.bins if b.n_pairs]
    centres = [(b.lower + b.upper) / 2 for b in full]
    widths = [b.upper - b.lower for b in full]
    ax.bar(
        centres,
        [b.observed or 0.0 for b in full],
        width=widths,
        alpha=0.4,
        edgecolor="black",
        label="observed",
    )
    predicted = [b.mean_predicted or 0.0 for b in full]
    ax.plot(predicted, [b.observed or 0.0 for b in full], "o-", label="bins")
    ece = "n/a" if calibration.ece is None else f"{calibration.ece:.3f}"
    ax.set_title(f"Calibration of P(A≻B), ECE = {ece}")
    ax.set_xlabel("predicted P(A≻B)")
    ax.set_ylabel("observed fraction A preferred (ties ½)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left")
    fig.tight_layout()
    fig.savefig(path, format="png")
    return path


def plot_reward_vs_quality(path: Path, reward: np.ndarray, manifest: pd.DataFrame) -> Path:
    """Scatter of reward against the ground-truth quality_score, coloured by tier."""
    tiers = _tiers(manifest)
    fig = Figure(figsize=(6, 4), dpi=100)
    ax = fig.add_subplot()
    quality = manifest["quality_score"].to_numpy(dtype=np.float64)
    for name in _ordered(tiers.unique().tolist()):
        mask = (tiers == name).to_numpy()
        ax.scatter(quality[mask], reward[mask], s=12, alpha=0.7, label=name)
    ax.set_xlabel("ground-truth quality_score")
    ax.set_ylabel("reward")
    ax.set_title("Reward vs ground truth")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, format="png")
    return path

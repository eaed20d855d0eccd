"""The QA report's plots, rendered with matplotlib (Agg) to base64 PNG for embedding in HTML."""

from __future__ import annotations

import base64
import io

import numpy as np
import pandas as pd


def _png(fig: object) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, bbox_inches="tight")  # type: ignore[attr-defined]
    plt.close(fig)  # type: ignore[arg-type]
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def agreement_plot(batches: pd.DataFrame, target: float) -> str:
    """Krippendorff's alpha per batch (in order), with the dataset target as a line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3))
    x = np.arange(len(batches))
    alpha = batches["alpha"].to_numpy(float)
    ax.plot(x, alpha, marker="o", label="Krippendorff's alpha (ordinal)")
    ax.axhline(target, color="grey", linestyle="--", label=f"target {target:g}")
    ax.set_xticks(x, [str(b) for b in batches.index], rotation=30, ha="right", fontsize=7)
    lowest = float(np.nanmin(alpha)) if np.isfinite(alpha).any() else 0.0
    ax.set_ylim(min(0.0, lowest) - 0.05, 1.02)
    ax.set_ylabel("alpha")
    ax.set_title("Agreement over batches")
    ax.legend(fontsize=8, loc="lower left")
    return _png(fig)


def annotator_plot(annotators: pd.DataFrame) -> str:
    """Per annotator: gold accuracy, self-consistency, majority agreement, fast and left shares."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stats = [
        "gold_accuracy",
        "self_consistency",
        "majority_agreement",
        "fast_fraction",
        "left_fraction",
    ]
    fig, ax = plt.subplots(figsize=(8, 3.2))
    x = np.arange(len(annotators))
    width = 0.8 / len(stats)
    for i, stat in enumerate(stats):
        ax.bar(x + i * width, annotators[stat].to_numpy(float), width, label=stat)
    labels = [
        f"{a} ⚑" if f else str(a)
        for a, f in zip(annotators.index, annotators["flagged"], strict=True)
    ]
    ax.set_xticks(x + 0.4 - width / 2, labels, rotation=30, ha="right", fontsize=7)
    ax.set_ylim(0, 1.05)
    ax.set_title("Annotators (⚑ = flagged)")
    ax.legend(fontsize=7, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.3))
    return _png(fig)


def disagreement_plot(by_quartiles: pd.DataFrame) -> str:
    """Disagreement rate per quartile pairing (same-quartile pairs should disagree most)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 2.8))
    ax.bar([str(i) for i in by_quartiles.index], by_quartiles["disagreement_rate"].to_numpy(float))
    ax.set_ylim(0, 1)
    ax.set_ylabel("pairs with disagreement")
    ax.set_title("Disagreement by quartile pairing")
    return _png(fig)

"""The dashboard's plots as PNG bytes (matplotlib's Agg canvas; no pyplot global state).

Drawn for people: rates against their target band, one small panel per tier instead of
overlapping histograms, times in seconds.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from robopref.quality import batch_alpha
from robopref.quality.consistency import production
from robopref.store import Store, trajectories_frame
from robopref.store.admin import annotator_activity
from robopref.types import source_tier
from robopref.web.dashboard.live_qa import LiveQA
from robopref.web.dashboard.overview import THROUGHPUT_TARGET_PER_HOUR

DPI = 100
_IN_BAND, _OFF_BAND, _NEUTRAL = "#2e7d32", "#ef6c00", "#1565c0"
_SECONDS = (1, 2, 3, 5, 10, 20, 30, 60, 120, 300)


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    return buffer.getvalue()


def _empty(title: str, message: str) -> bytes:
    fig = Figure(figsize=(7, 2))
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.set_title(title)
    ax.text(0.5, 0.5, message, ha="center", va="center", color="grey", transform=ax.transAxes)
    return _png(fig)


def throughput_png(annotators: Sequence[str], per_hour: Sequence[float]) -> bytes:
    """Comparisons per hour of each annotator, against the 40–60/h band."""
    low, high = THROUGHPUT_TARGET_PER_HOUR
    title = f"Comparisons per hour of active time (target {low}–{high}/h, shaded)"
    if not annotators:
        return _empty(title, "no annotator has two answers yet")
    rates = np.asarray(per_hour, dtype=float)
    fig = Figure(figsize=(7, 1.2 + 0.32 * len(annotators)))
    ax = fig.add_subplot()
    y = np.arange(len(annotators))
    colors = [_IN_BAND if low <= r <= high else _OFF_BAND for r in rates]
    ax.axvspan(low, high, color=_IN_BAND, alpha=0.12)
    ax.barh(y, rates, color=colors)
    for yi, rate in zip(y, rates, strict=True):
        ax.text(float(rate), float(yi), f" {rate:.0f}/h", va="center", fontsize=8)
    ax.set_yticks(y, list(annotators), fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, max(high * 1.25, float(rates.max()) * 1.2))
    ax.set_xlabel("comparisons per hour")
    ax.set_title(title, fontsize=10)
    return _png(fig)


def qa_png(qa: LiveQA) -> bytes:
    """Krippendorff's alpha with and without the excluded annotators, overall and per batch."""
    s = qa.report.summary
    if not s["pairs"]:
        return _empty("Agreement", "no production answers yet")
    fig = Figure(figsize=(9, 3.2))
    overall, per_batch = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 2.5]})
    values = [s["alpha"], s["alpha_without_excluded"]]
    heights = [np.nan if v is None else float(v) for v in values]
    overall.bar(["all", "without\nexcluded"], heights, color=["#90a4ae", _NEUTRAL])
    for i, h in enumerate(heights):
        overall.text(i, 0 if np.isnan(h) else h, " n/a" if np.isnan(h) else f"{h:.2f}",
                     ha="center", va="bottom", fontsize=9)
    for ax in (overall, per_batch):
        ax.axhline(qa.config.alpha_target, color="grey", linestyle="--",
                   label=f"target {qa.config.alpha_target:g}")
        ax.set_ylim(min(0.0, np.nanmin([*heights, 0.0])) - 0.05, 1.05)
    overall.set_title("Krippendorff's alpha", fontsize=10)
    kept = qa.resolved[~qa.resolved["annotator_id"].isin(qa.excluded)]
    batches = batch_alpha(qa.resolved)
    without = batch_alpha(kept)["alpha"].reindex(batches.index)
    x = np.arange(len(batches))
    per_batch.plot(x, batches["alpha"].to_numpy(float), marker="o", color="#90a4ae", label="all")
    per_batch.plot(x, without.to_numpy(float), marker="o", color=_NEUTRAL,
                   label="without excluded")
    per_batch.set_xticks(x, [str(b) for b in batches.index], rotation=20, ha="right", fontsize=7)
    per_batch.set_title("per batch", fontsize=10)
    per_batch.legend(fontsize=8, loc="lower left")
    return _png(fig)


def tiers_png(tiers: Sequence[str], scores: Sequence[float]) -> bytes:
    """One small histogram of quality scores per tier, on a shared axis, best tier on top."""
    title = "Quality score by tier"
    frame = pd.DataFrame({"tier": list(tiers), "score": np.asarray(scores, dtype=float)})
    frame = frame.dropna()
    if frame.empty:
        return _empty(title, "no trajectories synced yet")
    order = frame.groupby("tier")["score"].median().sort_values(ascending=False).index
    edges = np.histogram_bin_edges(frame["score"], bins=30)
    fig = Figure(figsize=(7, 0.6 + 1.1 * len(order)))
    axes = np.atleast_1d(fig.subplots(len(order), 1, sharex=True, squeeze=False)[:, 0])
    palette = ["#1565c0", "#2e7d32", "#6a1b9a", "#ef6c00", "#c62828", "#00838f", "#5d4037"]
    for i, (ax, tier) in enumerate(zip(axes, order, strict=True)):
        values = frame.loc[frame["tier"] == tier, "score"]
        ax.hist(values, bins=edges, color=palette[i % len(palette)], alpha=0.85)
        ax.axvline(values.median(), color="black", linewidth=1)
        ax.text(0.01, 0.8, f"{tier}: {len(values)} trajectories, median {values.median():.2f}",
                transform=ax.transAxes, fontsize=8)
        ax.set_yticks([])
        ax.spines[["top", "right", "left"]].set_visible(False)
    axes[0].set_title(title)
    axes[-1].set_xlabel("quality score")
    return _png(fig)


def response_times_png(annotators: Sequence[str], times_s: Sequence[np.ndarray],
                       fast_s: float) -> bytes:
    """Response times per annotator in seconds (log axis), against the fast-answer line."""
    title = "Seconds per comparison (⚑ flagged by QA)"
    if not annotators:
        return _empty(title, "no production answers yet")
    fig = Figure(figsize=(7, 1.2 + 0.32 * len(annotators)))
    ax = fig.add_subplot()
    ax.boxplot([np.clip(t, 0.1, None) for t in times_s], orientation="horizontal",
               tick_labels=list(annotators), flierprops={"markersize": 2})
    ax.axvline(fast_s, color=_OFF_BAND, linestyle="--", label=f"under {fast_s:g} s: too fast")
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(FixedLocator(_SECONDS))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g} s"))
    ax.invert_yaxis()
    ax.tick_params(axis="y", labelsize=8)
    ax.set_xlabel("seconds per comparison")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="lower right")
    return _png(fig)


def _throughput(store: Store, qa: LiveQA) -> bytes:
    rows = [a for a in annotator_activity(store) if a.per_hour is not None]
    return throughput_png([a.annotator_id for a in rows], [a.per_hour or 0.0 for a in rows])


def _tiers(store: Store, qa: LiveQA) -> bytes:
    frame = trajectories_frame(store)
    tiers = [source_tier(str(s)) for s in frame["source"]]
    return tiers_png(tiers, frame["quality_score"].tolist())


def _response_times(store: Store, qa: LiveQA) -> bytes:
    rows = production(qa.resolved)
    groups = rows.groupby("annotator_id")["response_time_ms"]
    names = sorted(str(n) for n in groups.groups)
    flagged = set(qa.report.summary["flagged"])
    labels = [f"{n} ⚑" if n in flagged else n for n in names]
    return response_times_png(labels, [groups.get_group(n).to_numpy(float) / 1000 for n in names],
                              qa.config.fast_response_ms / 1000)


RENDERERS: dict[str, Callable[[Store, LiveQA], bytes]] = {
    "throughput": _throughput,
    "qa": lambda store, qa: qa_png(qa),
    "tiers": _tiers,
    "response_times": _response_times,
}
"""Plot name → renderer (the overview's `PLOTS`)."""

"""report.html: the validation report as one self-contained page (plots embedded as PNG)."""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from robopref.validate.ranking import GroupAccuracy

if TYPE_CHECKING:
    from robopref.validate.result import ValidationReport

STYLE = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f3f3f3} td:first-child,th:first-child{text-align:left}
.flag{color:#b00;font-weight:bold} .ok{color:#070} img{max-width:100%;border:1px solid #ddd}
.note{color:#666}
"""
RHO_TARGET = 0.6
"""Seed 004: Spearman ρ of the reward with ground-truth metrics should exceed 0.6."""


def _cell(value: object) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3f}"
    return html.escape(str(value))


def table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """An HTML table; cells are escaped, floats shown to 3 decimals, None as n/a."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_cell(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _image(folder: Path, relative: str | None, alt: str) -> str:
    if relative is None or not (folder / relative).is_file():
        return ""
    data = base64.b64encode((folder / relative).read_bytes()).decode("ascii")
    return f'<p><img alt="{html.escape(alt)}" src="data:image/png;base64,{data}"></p>'


def _accuracy_table(groups: Mapping[str, GroupAccuracy], label: str) -> str:
    return table(
        [label, "pairs", "ties", "accuracy (ties excluded)", "accuracy (ties included)"],
        [[k, g.n_pairs, g.n_ties, g.accuracy, g.accuracy_with_ties] for k, g in groups.items()],
    )


def _part1(report: ValidationReport, folder: Path) -> str:
    if report.ranking is None:
        return "<h2>1. Held-out ranking accuracy</h2><p class=note>No held-out pairs given.</p>"
    r = report.ranking
    calibration = table(
        ["P(A≻B) bin", "pairs", "mean predicted", "observed"],
        [
            [f"{b.lower:.1f}–{b.upper:.1f}", b.n_pairs, b.mean_predicted, b.observed]
            for b in r.calibration.bins
        ],
    )
    return (
        "<h2>1. Held-out ranking accuracy</h2>"
        + _accuracy_table({"all test pairs": r.overall}, "")
        + "<h3>By task</h3>"
        + _accuracy_table(r.by_task, "task")
        + "<h3>By quartile pairing</h3>"
        + _accuracy_table(r.by_quartile_pair, "quartiles")
        + _accuracy_table(r.by_stratum, "stratum")
        + f"<h3>Calibration of P(A≻B): ECE = {_cell(r.calibration.ece)}</h3>"
        + _image(folder, report.files.get("reliability"), "reliability diagram")
        + calibration
    )


def _part2(report: ValidationReport, folder: Path) -> str:
    d = report.distribution
    overlaps = [o for o in (d.expert_vs_random, d.top_vs_bottom_quartile) if o is not None]
    corr_rows = [
        [
            c.column,
            c.n,
            c.rho,
            c.p_value,
            "+" if c.expected_sign > 0 else "−",
            None if c.rho is None else c.rho * c.expected_sign >= RHO_TARGET,
        ]
        for c in d.correlations.values()
    ]
    return (
        "<h2>2. Reward distribution and ground truth (whole pool)</h2>"
        + _image(folder, report.files.get("histograms"), "reward histograms by tier")
        + table(
            ["tier", "n", "mean", "std", "median"],
            [[k, s.n, s.mean, s.std, s.median] for k, s in d.by_tier.items()],
        )
        + table(
            ["source", "n", "mean", "std", "median"],
            [[k, s.n, s.mean, s.std, s.median] for k, s in d.by_source.items()],
        )
        + "<h3>Overlap</h3>"
        + table(
            ["higher", "lower", "AUC P(r_high > r_low)", "overlap coefficient", "separated"],
            [[o.high, o.low, o.auc, o.overlap_coefficient, o.separated] for o in overlaps],
        )
        + f"<h3>Spearman ρ with the ground truth (target ρ·sign ≥ {RHO_TARGET})</h3>"
        + table(["column", "n", "ρ", "p", "good sign", "meets target"], corr_rows)
        + table(
            ["task", "n", "ρ vs quality_score", "p"],
            [[k, c.n, c.rho, c.p_value] for k, c in d.correlations_by_task.items()],
        )
        + _image(folder, report.files.get("reward_vs_quality"), "reward vs quality")
    )


def _part3(report: ValidationReport, folder: Path) -> str:
    probes = table(
        ["probe", "feature", "n", "ρ reward", "ρ ground truth", "excess", "flagged", "note"],
        [
            [p.name, p.feature, p.n, p.rho_reward, p.rho_truth, p.excess, p.flagged, p.note]
            for p in report.probes
        ],
    )
    columns = sorted({k for e in report.top + report.bottom for k in e.metrics})
    extremes = ""
    for name, entries in (("Highest", report.top), ("Lowest", report.bottom)):
        extremes += f"<h3>{name} {len(entries)} rewards</h3>"
        key = "sheet_top" if name == "Highest" else "sheet_bottom"
        extremes += _image(folder, report.files.get(key), f"{name} rewards contact sheet")
        extremes += table(
            ["#", "trajectory", "reward", *columns],
            [
                [e.rank, e.trajectory_id, e.reward, *(e.metrics.get(c) for c in columns)]
                for e in entries
            ],
        )
    return "<h2>3. Reward-hacking probes and extremes</h2>" + probes + extremes


def render_html(report: ValidationReport, folder: Path) -> str:
    """The full page; images are read from `folder` (the report folder being written)."""
    flags = report.flagged
    banner = (
        f"<p class=flag>Possible reward hacking: {html.escape(', '.join(flags))}</p>"
        if flags
        else "<p class=ok>No reward-hacking probe flagged.</p>"
    )
    notes = "".join(f"<li class=note>{html.escape(n)}</li>" for n in report.notes)
    return (
        f"<!doctype html><html><head><meta charset=utf-8><title>Reward-model validation</title>"
        f"<style>{STYLE}</style></head><body><h1>Reward-model validation</h1>"
        f"<p>{html.escape(report.summary_line())}</p>{banner}<ul>{notes}</ul>"
        + _part1(report, folder)
        + _part2(report, folder)
        + _part3(report, folder)
        + "</body></html>"
    )

"""The QA report: agreement per batch, annotator table with flags, certification, disagreement."""

from __future__ import annotations

import html
import json
import math
from collections.abc import Collection
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from robopref.atomic import write_text_atomic
from robopref.quality.config import QAConfig
from robopref.quality.consistency import disagreement_rates, production
from robopref.quality.gold import certification_table
from robopref.quality.krippendorff import krippendorff_alpha
from robopref.quality.plots import agreement_plot, annotator_plot, disagreement_plot


class ReportFiles(NamedTuple):
    """Where `write_report` put the report."""

    json: Path
    html: Path


@dataclass(frozen=True, kw_only=True)
class QAReport:
    """Everything `robopref qa` measured."""

    summary: dict[str, Any]
    """Headline numbers: counts, overall alpha, gold accuracy, flagged and excluded annotators."""
    batches: pd.DataFrame
    """Per batch (index `batch_id`, in annotation order): `n_annotations`, `n_pairs`, `alpha`."""
    annotators: pd.DataFrame
    """`annotator_stats` output (index `annotator_id`)."""
    certification: pd.DataFrame
    """`certification_table` output."""
    disagreement_by_task: pd.DataFrame
    """`disagreement_rates(…, "task")`."""
    disagreement_by_quartiles: pd.DataFrame
    """`disagreement_rates(…, "quartiles")`."""

    def to_json(self) -> dict[str, Any]:
        """The report as JSON-ready data (NaN becomes null)."""
        data: dict[str, Any] = _clean(
            {
                "summary": self.summary,
                "batches": _records(self.batches),
                "annotators": _records(self.annotators),
                "certification": _records(self.certification),
                "disagreement_by_task": _records(self.disagreement_by_task),
                "disagreement_by_quartiles": _records(self.disagreement_by_quartiles),
            }
        )
        return data


def batch_alpha(resolved: pd.DataFrame) -> pd.DataFrame:
    """Krippendorff's alpha (ordinal A < equal < B) per batch, over production answers.

    Units are the original pairs; reversed duplicates are left out (one annotator twice).
    """
    rows = production(resolved)
    rows = rows[~rows["is_duplicate"]]
    out = []
    for batch, group in rows.groupby("batch_id", sort=False):
        alpha = krippendorff_alpha(group["base_pair_id"], group["code"], n_categories=3)
        out.append((batch, len(group), group["base_pair_id"].nunique(), alpha))
    frame = pd.DataFrame(out, columns=["batch_id", "n_annotations", "n_pairs", "alpha"])
    return frame.set_index("batch_id")


def overall_shares(annotators: pd.DataFrame) -> dict[str, float | None]:
    """Dataset-wide shares over production answers, pooled from `annotator_stats` rows.

    `gold_accuracy`: gold answers matching the expected one; `fast_fraction`: answers under
    `QAConfig.fast_response_ms`; `self_consistency`: reversed duplicates answered like the
    original; `left_fraction`: side choices for the left clip (0.5 = no position bias).
    None where there is nothing to count.
    """
    pooled = {
        "gold_accuracy": "n_gold",
        "fast_fraction": "n_annotations",
        "self_consistency": "n_duplicates",
        "left_fraction": "n_sided",
    }
    return {
        share: _share(float((annotators[share].fillna(0.0) * annotators[count]).sum()),
                      int(annotators[count].sum()))
        for share, count in pooled.items()
    }


def _share(count: float, total: int) -> float | None:
    return float(count) / total if total else None


def build_report(
    resolved: pd.DataFrame,
    config: QAConfig,
    *,
    annotators: pd.DataFrame,
    preferences: pd.DataFrame,
    excluded: Collection[str],
    excluded_by_lead: Collection[str] = (),
    ai_labels_excluded: int = 0,
) -> QAReport:
    """Assemble the report from resolved annotations and what was already computed.

    Args:
        resolved: `resolve_annotations` output.
        config: QA settings (the alpha target is reported).
        annotators: `annotator_stats` output.
        preferences: The aggregated export.
        excluded: Annotators left out of the export (flagged ones and the lead's).
        excluded_by_lead: Those of them the annotation lead excluded in the store.
        ai_labels_excluded: AI labels left out before QA (`ai_label_mask`): reported only.
    """
    rows = production(resolved)
    originals = rows[~rows["is_duplicate"]]
    kept = originals[~originals["annotator_id"].isin(list(excluded))]
    multi = originals.groupby("base_pair_id").size()
    summary = {
        "annotations": len(resolved),
        "ai_labels_excluded": int(ai_labels_excluded),
        "calibration_annotations": int(len(resolved) - len(rows)),
        "pairs": int(originals["base_pair_id"].nunique()),
        "annotators": int(resolved["annotator_id"].nunique()),
        "alpha": krippendorff_alpha(originals["base_pair_id"], originals["code"], n_categories=3),
        "alpha_without_excluded": krippendorff_alpha(
            kept["base_pair_id"], kept["code"], n_categories=3
        ),
        "alpha_target": config.alpha_target,
        **overall_shares(annotators),
        "flagged": sorted(annotators.index[annotators["flagged"]].tolist()),
        "excluded": sorted(excluded),
        "excluded_by_lead": sorted(excluded_by_lead),
        "preferences": len(preferences),
        "ties_exported": int((preferences["preference"] == 0.5).sum()),
        "pairs_dropped": int((multi >= 1).sum() - len(preferences)),
        "config": asdict(config),
    }
    return QAReport(
        summary=summary,
        batches=batch_alpha(resolved),
        annotators=annotators,
        certification=certification_table(resolved, config),
        disagreement_by_task=disagreement_rates(rows, "task"),
        disagreement_by_quartiles=disagreement_rates(rows, "quartiles"),
    )


def format_report(report: QAReport) -> str:
    """A readable plain-text report for the terminal."""
    s = report.summary
    lines = [
        f"annotations {s['annotations']} ({s['calibration_annotations']} calibration), "
        f"pairs {s['pairs']}, annotators {s['annotators']}{_ai_left_out(s)}",
        f"Krippendorff's alpha (ordinal) {_fmt(s['alpha'])} (target {s['alpha_target']:g}; "
        f"{_fmt(s.get('alpha_without_excluded'))} without the excluded annotators); "
        f"gold accuracy {_fmt(s['gold_accuracy'])}",
        "",
        "agreement per batch:",
        report.batches.to_string(float_format=lambda v: f"{v:.3f}"),
        "",
        "annotators:",
        report.annotators.drop(columns=["flagged"]).to_string(float_format=lambda v: f"{v:.3g}"),
        "",
        "disagreement by quartile pairing:",
        report.disagreement_by_quartiles.to_string(float_format=lambda v: f"{v:.2f}"),
    ]
    if not report.certification.empty:
        lines += [
            "",
            "certification:",
            report.certification.to_string(index=False, float_format=lambda v: f"{v:.3f}"),
        ]
    lines += [
        "",
        f"flagged: {', '.join(s['flagged']) or 'none'}; excluded from export: "
        f"{', '.join(s['excluded']) or 'none'}{_by_lead(s)}",
        f"exported {s['preferences']} preferences ({s['ties_exported']} ties), "
        f"dropped {s['pairs_dropped']} ambiguous or under-annotated pairs",
    ]
    return "\n".join(lines)


def write_report(report: QAReport, out_dir: str | Path) -> ReportFiles:
    """Write `report.json` and `report.html` (plots embedded as base64 PNG), atomically."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = ReportFiles(json=out / "report.json", html=out / "report.html")
    write_text_atomic(files.json, json.dumps(report.to_json(), indent=1, allow_nan=False))
    write_text_atomic(files.html, render_html(report))
    return files


def render_html(report: QAReport) -> str:
    """One self-contained HTML page: summary, plots and tables."""
    s = report.summary
    plots = [agreement_plot(report.batches, s["alpha_target"]), annotator_plot(report.annotators)]
    if not report.disagreement_by_quartiles.empty:
        plots.append(disagreement_plot(report.disagreement_by_quartiles))
    images = "".join(f'<img alt="plot" src="data:image/png;base64,{p}">' for p in plots)
    table = report.annotators.drop(columns=["flagged"]).to_html(
        float_format=lambda v: f"{v:.3g}", na_rep="–"
    )
    table = table.replace("<td>outlier", '<td class="flag">outlier')
    body = [
        "<h1>robopref quality report</h1>",
        f"<p>{html.escape(format_report(report).splitlines()[0])}</p>",
        f"<p>Krippendorff's alpha (ordinal): <b>{_fmt(s['alpha'])}</b> "
        f"(target {s['alpha_target']:g}); gold accuracy <b>{_fmt(s['gold_accuracy'])}</b>; "
        f"flagged: <b>{html.escape(', '.join(s['flagged']) or 'none')}</b>; "
        f"excluded from export: <b>{html.escape(', '.join(s['excluded']) or 'none')}</b>"
        f"{html.escape(_by_lead(s))}; exported {s['preferences']} preferences.</p>",
        images,
        "<h2>Annotators</h2>",
        table,
        "<h2>Agreement per batch</h2>",
        report.batches.to_html(float_format=lambda v: f"{v:.3f}", na_rep="–"),
        "<h2>Disagreement by task</h2>",
        report.disagreement_by_task.to_html(float_format=lambda v: f"{v:.2f}"),
        "<h2>Disagreement by quartile pairing</h2>",
        report.disagreement_by_quartiles.to_html(float_format=lambda v: f"{v:.2f}"),
        "<h2>Certification</h2>",
        report.certification.to_html(index=False, float_format=lambda v: f"{v:.3f}", na_rep="–"),
    ]
    style = (
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{padding:2px 8px}.flag{color:#b00}"
    )
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>robopref QA</title>'
        f"<style>{style}</style></head><body>{''.join(body)}</body></html>"
    )


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    named = frame.reset_index() if frame.index.name else frame
    return [{str(k): v for k, v in r.items()} for r in named.to_dict(orient="records")]


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _ai_left_out(summary: dict[str, Any]) -> str:
    """`; N AI labels left out (not people)` when there were any, else empty."""
    count = int(summary.get("ai_labels_excluded") or 0)
    return f"; {count} AI labels left out (not people)" if count else ""


def _by_lead(summary: dict[str, Any]) -> str:
    """` (by the lead: a, b)` when the annotation lead excluded annotators, else empty."""
    by_lead = summary.get("excluded_by_lead") or []
    return f" (by the lead: {', '.join(by_lead)})" if by_lead else ""


def _fmt(value: float | None) -> str:
    return (
        "n/a"
        if value is None or (isinstance(value, float) and math.isnan(value))
        else f"{value:.3f}"
    )

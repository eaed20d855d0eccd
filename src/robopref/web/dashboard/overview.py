"""GET /api/admin/overview: batches, annotators, live QA, disagreement and recent reasons."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pandas as pd

from robopref.campaign.live_certification import decide_phase
from robopref.quality import disagreement_rates
from robopref.quality.consistency import production
from robopref.store import Role, Store
from robopref.store.admin import (
    AnnotatorActivity,
    annotator_activity,
    batch_progress,
    recent_reasons,
)
from robopref.web.dashboard.flags import flag_rows
from robopref.web.dashboard.live_qa import LiveQA, live_qa
from robopref.web.dashboard.schemas import (
    AnnotatorRow,
    BatchRow,
    DisagreementRow,
    Overview,
    QAPublic,
    ReasonPublic,
)

THROUGHPUT_TARGET_PER_HOUR = (40, 60)
"""Comparisons per hour a careful annotator keeps up (seed 004)."""
PLOTS = ("throughput", "qa", "tiers", "response_times")
"""Plots served at /api/admin/plots/<name>.png."""
REASONS_SHOWN = 50
"""Recent free-text reasons listed on the overview."""


def build_overview(store: Store, qa: LiveQA | None = None) -> Overview:
    """The dashboard's data now (run it through a short-lived cache: it reads every answer).

    Args:
        store: The annotation store.
        qa: Its `live_qa`, when already computed.
    """
    qa = qa or live_qa(store)
    return Overview(
        generated_at=datetime.now(UTC),
        batches=[BatchRow(batch_id=b.batch_id, kind=b.kind, status=b.status, rubric=b.rubric,
                          pairs=b.pairs, assigned=b.assignments, done=b.done, skipped=b.skipped,
                          created_at=b.created_at) for b in batch_progress(store)],
        annotators=[annotator_row(a, qa) for a in annotator_activity(store)],
        qa=qa_public(qa),
        disagreement=disagreement_rows(qa.resolved),
        reasons=[ReasonPublic(pair_id=r.pair_id, task=r.task, annotator_id=r.annotator_id,
                              reason=r.reason, created_at=r.created_at)
                 for r in recent_reasons(store, REASONS_SHOWN)],
        throughput_target_per_hour=THROUGHPUT_TARGET_PER_HOUR,
        plots=[f"/api/admin/plots/{name}.png" for name in PLOTS],
    )


def phase(a: AnnotatorActivity) -> str:
    """Where an annotator stands, by the campaign's rule (`robopref.campaign.decide_phase`).

    `admin` for an admin with no work assigned (an account that only runs the campaign).

    >>> from robopref.store.admin import AnnotatorActivity as A
    >>> base = dict(annotator_id="x", role="annotator", excluded=False, has_token=True,
    ...             done=0, assigned=4, skipped=0, rankings_done=0, rankings_assigned=0,
    ...             annotations=0, per_hour=None, median_response_ms=None, last_active=None)
    >>> phase(A(**base, certified=False, calibration_pending=4, production_pending=0))
    'calibration'
    >>> phase(A(**base, certified=True, calibration_pending=0, production_pending=0))
    'done'
    """
    if a.role == Role.ADMIN.value and not a.assigned and not a.rankings_assigned:
        return "admin"
    pending = a.production_pending if a.certified else a.calibration_pending
    return decide_phase(certified=a.certified, has_pair=pending > 0, rankings=0).value


def annotator_row(a: AnnotatorActivity, qa: LiveQA) -> AnnotatorRow:
    """One annotator's dashboard row (rates rounded for people)."""
    stats = qa.report.annotators
    flags = str(stats.at[a.annotator_id, "flags"]) if a.annotator_id in stats.index else ""
    median = a.median_response_ms
    return AnnotatorRow(
        annotator_id=a.annotator_id, role=a.role, certified=a.certified, excluded=a.excluded,
        has_token=a.has_token, phase=phase(a), done=a.done, assigned=a.assigned,
        skipped=a.skipped, rankings_done=a.rankings_done, rankings_assigned=a.rankings_assigned,
        per_hour=None if a.per_hour is None else round(a.per_hour, 1),
        median_response_ms=None if median is None else round(median),
        median_response_s=None if median is None else round(median / 1000.0, 1),
        last_active=a.last_active, flags=[f for f in flags.split(",") if f],
    )


def _rounded(value: object, digits: int = 3) -> float | None:
    if value is None or not isinstance(value, int | float) or math.isnan(value):
        return None
    return round(float(value), digits)


def qa_public(qa: LiveQA) -> QAPublic:
    """The QA headline: alpha with and without the excluded annotators, shares and flags."""
    s = qa.report.summary
    left = _rounded(s["left_fraction"])
    return QAPublic(
        annotations=int(s["annotations"]), pairs=int(s["pairs"]),
        preferences=int(s["preferences"]), alpha=_rounded(s["alpha"]),
        alpha_without_excluded=_rounded(s["alpha_without_excluded"]),
        alpha_target=qa.config.alpha_target, gold_accuracy=_rounded(s["gold_accuracy"]),
        fast_fraction=_rounded(s["fast_fraction"]),
        fast_response_s=qa.config.fast_response_ms / 1000.0,
        self_consistency=_rounded(s["self_consistency"]),
        position_bias=None if left is None else round(abs(left - 0.5), 3), left_fraction=left,
        excluded=qa.excluded, excluded_by_lead=qa.excluded_by_lead, flagged=s["flagged"],
        flags=flag_rows(qa.report.annotators, qa.config),
    )


def disagreement_rows(resolved: pd.DataFrame) -> list[DisagreementRow]:
    """Disagreement per task and quartile pairing, most disputed first."""
    rates = disagreement_rates(production(resolved), ["task", "quartiles"])
    flat = rates.reset_index()
    rows = [
        DisagreementRow(task=str(r["task"]), quartiles=str(r["quartiles"]), pairs=int(r["pairs"]),
                        disagreement=round(float(r["disagreement_rate"]), 3))
        for r in flat.to_dict("records")
    ]
    return sorted(rows, key=lambda r: (-r.disagreement, r.task, r.quartiles))

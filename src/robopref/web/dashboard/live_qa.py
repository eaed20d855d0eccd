"""Live quality control over the store, through `robopref.quality` (the `robopref qa` rules)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from robopref.quality import QAConfig, QAReport, assess_annotations
from robopref.store import Store, pairs_frame
from robopref.store.admin import answers_frame
from robopref.store.admin import excluded_annotators as lead_exclusions


@dataclass(frozen=True, kw_only=True)
class LiveQA:
    """Everything the dashboard shows about label quality, computed at one moment."""

    config: QAConfig
    resolved: pd.DataFrame
    """`resolve_annotations` of every stored annotation."""
    report: QAReport
    """The `robopref qa` report (summary, per-batch alpha, annotator stats, disagreement)."""
    preferences: pd.DataFrame
    """The export: majority vote per pair, excluded annotators left out."""
    excluded: list[str]
    """Annotators left out of the export: flagged (per `config`) and the lead's."""
    excluded_by_lead: list[str]
    """Annotators the lead excluded in the store (with or without answers)."""


def live_qa(store: Store, config: QAConfig | None = None) -> LiveQA:
    """Quality control of the store's annotations now, as `robopref qa --db` computes it."""
    config = config or QAConfig()
    by_lead = lead_exclusions(store)
    assessed = assess_annotations(answers_frame(store), pairs_frame(store), config,
                                  excluded_by_lead=by_lead)
    return LiveQA(config=config, resolved=assessed.resolved, report=assessed.report,
                  preferences=assessed.preferences, excluded=assessed.excluded,
                  excluded_by_lead=by_lead)

"""`run_qa`: resolve annotations, score annotators, aggregate, and write the export and report."""

from __future__ import annotations

import json
import logging
from collections.abc import Collection
from dataclasses import asdict
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from robopref import __version__
from robopref.outputs import check_output_dir, output_folder
from robopref.progress import ProgressCallback, no_progress
from robopref.quality.aggregate import aggregate_preferences, write_preferences
from robopref.quality.annotators import annotator_stats
from robopref.quality.config import QAConfig
from robopref.quality.frames import ANNOTATION_COLUMNS, ai_label_mask, resolve_annotations
from robopref.quality.report import QAReport, ReportFiles, build_report, write_report
from robopref.schemas import ANNOTATIONS_TABLE, PAIRS_TABLE
from robopref.tables import TableFiles, read_table_file

logger = logging.getLogger(__name__)


def read_frame(path: str | Path, field: str) -> pd.DataFrame:
    """An annotations or pairs file (Parquet or JSONL), read by `robopref.tables`' one reader.

    Args:
        path: The file.
        field: `annotations` (ANNOTATIONS_TABLE, at least ANNOTATION_COLUMNS) or `pairs`
            (PAIRS_TABLE): which table the file holds.

    Raises:
        InputError: The file is missing or unreadable, or a column or value is wrong (the
            error names the file, the column and the row).
    """
    if field == "annotations":
        return read_table_file(path, ANNOTATIONS_TABLE, require=ANNOTATION_COLUMNS)
    if field == "pairs":
        return read_table_file(path, PAIRS_TABLE)
    raise ValueError(f"field: {field!r} is neither 'annotations' nor 'pairs'")


class Assessment(NamedTuple):
    """Quality control of a set of annotations, computed but not written."""

    resolved: pd.DataFrame
    """`resolve_annotations` output (AI labels and calibration answers left out)."""
    stats: pd.DataFrame
    """`annotator_stats` with flags."""
    excluded: list[str]
    """Annotators left out of the aggregate: flagged (per the config) and the lead's."""
    preferences: pd.DataFrame
    """One label per pair."""
    report: QAReport
    """Summary, per-batch alpha, annotator stats, disagreement."""


class QAResult(NamedTuple):
    """What `run_qa` produced."""

    report: QAReport
    preferences: pd.DataFrame
    preference_files: TableFiles
    report_files: ReportFiles


QA_STEPS = 5
"""`run_qa`'s steps for its progress callback: resolve, score, aggregate, report, write."""

OUTPUT_KIND = "qa"
"""The `robopref.outputs` kind of a QA folder (`robopref qa`, `robopref campaign simulate`)."""


def check_qa_out(out: Path) -> None:
    """Refuse `out` unless it is absent, empty, or an earlier QA folder (`robopref.outputs`)."""
    check_output_dir(out, OUTPUT_KIND, recognise=_is_qa_folder)


def _is_qa_folder(folder: Path) -> bool:
    """A QA folder written before output markers existed."""
    return (folder / "report.json").is_file() and (folder / "preferences.parquet").is_file()


def excluded_annotators(
    stats: pd.DataFrame, config: QAConfig, *, by_lead: Collection[str] = ()
) -> list[str]:
    """Annotators whose labels aggregation leaves out, sorted.

    Flagged ones when `config.exclude_flagged`, and always those the annotation lead
    excluded (`by_lead`, from the store's `Annotator.excluded`).

    Args:
        stats: `annotator_stats` output.
        config: Whether flagged annotators are left out.
        by_lead: The lead's exclusions (ids without answers are ignored).
    """
    flagged = set(stats.index[stats["flagged"]]) if config.exclude_flagged else set()
    return sorted(flagged | (set(by_lead) & set(stats.index)))


def assess_annotations(
    annotations: pd.DataFrame,
    pairs: pd.DataFrame,
    config: QAConfig,
    *,
    excluded_by_lead: Collection[str] = (),
    progress: ProgressCallback = no_progress,
) -> Assessment:
    """Resolve, score annotators, aggregate and report: `run_qa`'s figures, nothing written.

    The dashboard's live QA calls it on the store's answers. `progress` is called after
    the first three of `run_qa`'s five steps and after the report (4 of 5).
    """
    total = QA_STEPS
    resolved = resolve_annotations(annotations, pairs)
    progress(1, total)
    stats = annotator_stats(resolved, config)
    progress(2, total)
    excluded = excluded_annotators(stats, config, by_lead=excluded_by_lead)
    preferences = aggregate_preferences(resolved, config, exclude_annotators=excluded)
    progress(3, total)
    by_lead = sorted(set(excluded_by_lead) & set(excluded))
    report = build_report(
        resolved, config, annotators=stats, preferences=preferences, excluded=excluded,
        excluded_by_lead=by_lead, ai_labels_excluded=int(ai_label_mask(annotations).sum()),
    )
    progress(4, total)
    return Assessment(resolved, stats, excluded, preferences, report)


def run_qa(
    annotations: pd.DataFrame,
    pairs: pd.DataFrame,
    config: QAConfig,
    *,
    out_dir: str | Path,
    excluded_by_lead: Collection[str] = (),
    progress: ProgressCallback = no_progress,
) -> QAResult:
    """Quality-control a set of annotations and export one label per pair.

    Writes `preferences.parquet`, `preferences.jsonl`, `report.json`, `report.html` and
    `config.json` into `out_dir`. AI labels (`interface_version` `ai:…`) are left out of
    every figure and of the export; the report counts them (`ai_labels_excluded`).

    Args:
        annotations: Raw annotations (`ANNOTATIONS_SCHEMA` columns).
        pairs: The pairs they answer (`PAIR_COLUMNS`), duplicates' originals included.
        config: Thresholds and aggregation rules.
        out_dir: Folder for the outputs: absent, empty or an earlier QA folder (replaced
            whole, by one rename, once everything is written).
        excluded_by_lead: Annotators the lead excluded in the store: left out of the
            export like flagged ones (also with `exclude_flagged` off), and named in the
            report.
        progress: Called after each of the five steps.

    Returns:
        The report, the preferences and the file paths.

    Raises:
        InputError: A frame lacks a column or names unknown pairs or answers, or `out_dir`
            is a folder robopref did not write as QA output.
    """
    out = Path(out_dir)
    check_qa_out(out)
    assessed = assess_annotations(annotations, pairs, config,
                                  excluded_by_lead=excluded_by_lead, progress=progress)
    preferences, report = assessed.preferences, assessed.report
    with output_folder(out, OUTPUT_KIND, recognise=_is_qa_folder) as staged:
        write_preferences(preferences, staged)
        write_report(report, staged)
        (staged / "config.json").write_text(
            json.dumps({"robopref_version": __version__, "config": asdict(config)}, indent=1)
        )
    preference_files = TableFiles(out / "preferences.parquet", out / "preferences.jsonl")
    report_files = ReportFiles(json=out / "report.json", html=out / "report.html")
    progress(QA_STEPS, QA_STEPS)
    logger.info("qa: %d preferences, flagged %s", len(preferences), report.summary["flagged"])
    return QAResult(report, preferences, preference_files, report_files)

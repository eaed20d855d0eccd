"""Quality control: kappa, Krippendorff's alpha, annotator stats and flags, aggregation, report."""

from __future__ import annotations

from typing import TYPE_CHECKING

from robopref.lazy_exports import lazy_getattr

if TYPE_CHECKING:
    from robopref.quality.aggregate import (
        aggregate_preferences,
        aggregate_rankings,
        vote,
        write_preferences,
    )
    from robopref.quality.annotators import STAT_COLUMNS, annotator_stats
    from robopref.quality.config import QAConfig
    from robopref.quality.consistency import (
        disagreement_rates,
        majority_agreement,
        position_bias,
        self_consistency,
    )
    from robopref.quality.frames import (
        CODES,
        RESOLVED_COLUMNS,
        ai_label_mask,
        resolve_annotations,
    )
    from robopref.quality.gold import certification_table, gold_accuracy
    from robopref.quality.kappa import CertificationStep, certification_step, cohen_kappa
    from robopref.quality.krippendorff import (
        interval_distance,
        krippendorff_alpha,
        nominal_distance,
        ordinal_distance,
    )
    from robopref.quality.qa import (
        Assessment,
        QAResult,
        assess_annotations,
        excluded_annotators,
        read_frame,
        run_qa,
    )
    from robopref.quality.report import (
        QAReport,
        batch_alpha,
        build_report,
        format_report,
        overall_shares,
        write_report,
    )

_WHERE = {
    "aggregate_preferences": ("aggregate", "aggregate_preferences"),
    "aggregate_rankings": ("aggregate", "aggregate_rankings"),
    "vote": ("aggregate", "vote"),
    "write_preferences": ("aggregate", "write_preferences"),
    "STAT_COLUMNS": ("annotators", "STAT_COLUMNS"),
    "annotator_stats": ("annotators", "annotator_stats"),
    "QAConfig": ("config", "QAConfig"),
    "disagreement_rates": ("consistency", "disagreement_rates"),
    "majority_agreement": ("consistency", "majority_agreement"),
    "position_bias": ("consistency", "position_bias"),
    "self_consistency": ("consistency", "self_consistency"),
    "CODES": ("frames", "CODES"),
    "RESOLVED_COLUMNS": ("frames", "RESOLVED_COLUMNS"),
    "ai_label_mask": ("frames", "ai_label_mask"),
    "resolve_annotations": ("frames", "resolve_annotations"),
    "certification_table": ("gold", "certification_table"),
    "gold_accuracy": ("gold", "gold_accuracy"),
    "CertificationStep": ("kappa", "CertificationStep"),
    "certification_step": ("kappa", "certification_step"),
    "cohen_kappa": ("kappa", "cohen_kappa"),
    "interval_distance": ("krippendorff", "interval_distance"),
    "krippendorff_alpha": ("krippendorff", "krippendorff_alpha"),
    "nominal_distance": ("krippendorff", "nominal_distance"),
    "ordinal_distance": ("krippendorff", "ordinal_distance"),
    "Assessment": ("qa", "Assessment"),
    "QAResult": ("qa", "QAResult"),
    "assess_annotations": ("qa", "assess_annotations"),
    "excluded_annotators": ("qa", "excluded_annotators"),
    "read_frame": ("qa", "read_frame"),
    "run_qa": ("qa", "run_qa"),
    "QAReport": ("report", "QAReport"),
    "batch_alpha": ("report", "batch_alpha"),
    "build_report": ("report", "build_report"),
    "format_report": ("report", "format_report"),
    "overall_shares": ("report", "overall_shares"),
    "write_report": ("report", "write_report"),
}

__all__ = [
    "CODES",
    "RESOLVED_COLUMNS",
    "STAT_COLUMNS",
    "Assessment",
    "CertificationStep",
    "QAConfig",
    "QAReport",
    "QAResult",
    "aggregate_preferences",
    "aggregate_rankings",
    "ai_label_mask",
    "annotator_stats",
    "assess_annotations",
    "batch_alpha",
    "build_report",
    "certification_step",
    "certification_table",
    "cohen_kappa",
    "disagreement_rates",
    "excluded_annotators",
    "format_report",
    "gold_accuracy",
    "interval_distance",
    "krippendorff_alpha",
    "majority_agreement",
    "nominal_distance",
    "ordinal_distance",
    "overall_shares",
    "position_bias",
    "read_frame",
    "resolve_annotations",
    "run_qa",
    "self_consistency",
    "vote",
    "write_preferences",
    "write_report",
]

__getattr__ = lazy_getattr(__name__, _WHERE)

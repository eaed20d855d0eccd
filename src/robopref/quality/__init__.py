"""Quality control: kappa, Krippendorff's alpha, annotator stats and flags, aggregation, report."""

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
from robopref.quality.frames import CODES, RESOLVED_COLUMNS, resolve_annotations
from robopref.quality.gold import certification_table, gold_accuracy
from robopref.quality.kappa import CertificationStep, certification_step, cohen_kappa
from robopref.quality.krippendorff import (
    interval_distance,
    krippendorff_alpha,
    nominal_distance,
    ordinal_distance,
)
from robopref.quality.qa import QAResult, read_frame, run_qa
from robopref.quality.report import QAReport, batch_alpha, build_report, format_report, write_report

__all__ = [
    "CODES",
    "RESOLVED_COLUMNS",
    "STAT_COLUMNS",
    "CertificationStep",
    "QAConfig",
    "QAReport",
    "QAResult",
    "aggregate_preferences",
    "aggregate_rankings",
    "annotator_stats",
    "batch_alpha",
    "build_report",
    "certification_step",
    "certification_table",
    "cohen_kappa",
    "disagreement_rates",
    "format_report",
    "gold_accuracy",
    "interval_distance",
    "krippendorff_alpha",
    "majority_agreement",
    "nominal_distance",
    "ordinal_distance",
    "position_bias",
    "read_frame",
    "resolve_annotations",
    "run_qa",
    "self_consistency",
    "vote",
    "write_preferences",
    "write_report",
]

"""`QAConfig`: certification threshold, annotator flag thresholds and aggregation rules."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class QAConfig:
    """Quality-control settings (defaults from seed 004)."""

    kappa_threshold: float = 0.65
    """Cohen's kappa against expert answers needed for certification."""
    max_calibration_attempts: int = 2
    """Calibration sets an annotator may take before being rejected."""
    max_gold_disagreement: float = 0.2
    """Flag an annotator who disagrees with more than this share of gold pairs."""
    fast_response_ms: int = 3000
    """Responses quicker than this suggest the clips were not watched in full."""
    max_fast_fraction: float = 0.2
    """Flag an annotator with more than this share of fast responses."""
    min_self_consistency: float = 0.8
    """Flag an annotator who agrees with themself on fewer reversed duplicates than this."""
    max_position_bias: float = 0.2
    """Flag an annotator whose share of left choices is further than this from 0.5 …"""
    position_bias_p: float = 0.01
    """… and whose choices a fair coin would give that lopsided less often than this
    (two-sided binomial test): 22 left of 30 (p 0.016) is chance, 73 of 100 is not."""
    outlier_sigma: float = 2.0
    """Flag an annotator more than this many standard deviations from the others on a stat."""
    outlier_min_std: float = 0.05
    """Floor on the others' standard deviation (shares; log10 for response time)."""
    min_answers: int = 10
    """Answers an annotator needs on a stat before that stat can flag them."""
    min_duplicates: int = 5
    """Reversed duplicates an annotator needs before self-consistency can flag them."""
    alpha_target: float = 0.55
    """Krippendorff's alpha the whole dataset should reach (reported, not enforced)."""
    exclude_flagged: bool = True
    """Leave flagged annotators' labels out of the aggregated preferences."""
    min_annotators: int = 2
    """Labels a pair needs (after exclusions) to be exported."""
    split_as_tie: bool = False
    """Export a pair with no strict majority (1–1 or 1–1–1) as 0.5 instead of dropping it."""
    source: str = "human"
    """Value of the `source` column of the export."""

    def __post_init__(self) -> None:
        for name in (
            "max_gold_disagreement",
            "max_fast_fraction",
            "min_self_consistency",
            "max_position_bias",
            "position_bias_p",
            "alpha_target",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {value}")
        if not -1.0 <= self.kappa_threshold <= 1.0:
            raise ValueError(f"kappa_threshold must be in [-1, 1], got {self.kappa_threshold}")
        if self.max_calibration_attempts < 1:
            raise ValueError(
                f"max_calibration_attempts must be ≥ 1, got {self.max_calibration_attempts}"
            )
        if self.fast_response_ms < 0:
            raise ValueError(f"fast_response_ms must be ≥ 0, got {self.fast_response_ms}")
        if self.outlier_sigma <= 0:
            raise ValueError(f"outlier_sigma must be > 0, got {self.outlier_sigma}")
        if self.outlier_min_std < 0:
            raise ValueError(f"outlier_min_std must be ≥ 0, got {self.outlier_min_std}")
        if self.min_answers < 1:
            raise ValueError(f"min_answers must be ≥ 1, got {self.min_answers}")
        if self.min_duplicates < 1:
            raise ValueError(f"min_duplicates must be ≥ 1, got {self.min_duplicates}")
        if self.min_annotators < 1:
            raise ValueError(f"min_annotators must be ≥ 1, got {self.min_annotators}")
        if not self.source:
            raise ValueError("source must not be empty")

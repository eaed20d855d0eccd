"""Configuration of a preference campaign: who annotates what, and the QA thresholds."""

from __future__ import annotations

from dataclasses import dataclass, field

from robopref.pairs.config import PairsConfig
from robopref.quality.config import QAConfig


@dataclass(frozen=True, kw_only=True)
class CampaignConfig:
    """A simulated campaign: calibration → certification (with a retest) → production → QA.

    Rosters use `robopref annotate simulate`'s syntax and are dealt out over the annotator
    ids in sorted order, so the defaults plant one annotator who fails calibration once
    (rushing it) and, in production, a speeder and a left-clicker that QA must flag.
    """

    annotators: int = 5
    """Annotators in the campaign (ids ann-01 … ann-NN)."""
    calibration_roster: str = "oracle:4,speeder:1"
    """Behaviour on the first calibration set: the last annotator rushes it and fails."""
    retest_roster: str = "oracle:1"
    """Behaviour of the annotators retested on the second set (after a second training)."""
    production_roster: str = "oracle:2,mistake:1,speeder:1,left-clicker:1"
    """Behaviour in production: three careful annotators and two that QA must flag."""
    pairs: PairsConfig = field(default_factory=PairsConfig)
    """Pair selection (batch size, mix, annotators per pair, duplicates, calibration sets)."""
    qa: QAConfig = field(default_factory=lambda: QAConfig(source="simulated"))
    """Certification threshold, flags and aggregation."""
    seed: int = 0
    """Seed of the simulated answers."""
    truth: str = "quality_score"
    """Manifest column the simulated annotators answer from: `quality_score` (the rubric)
    or `true_return` (the simulator's return, normalised within each task; Meta-World
    pools record it)."""

    def __post_init__(self) -> None:
        if self.truth not in ("quality_score", "true_return"):
            raise ValueError(f"truth must be quality_score or true_return, got {self.truth!r}")
        if self.annotators < self.pairs.annotators_per_pair:
            raise ValueError(
                f"CampaignConfig.annotators ({self.annotators}) must be >= "
                f"pairs.annotators_per_pair ({self.pairs.annotators_per_pair})"
            )

    @property
    def annotator_ids(self) -> list[str]:
        """ann-01 … ann-NN."""
        return [f"ann-{i + 1:02d}" for i in range(self.annotators)]

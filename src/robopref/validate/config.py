"""Configuration of reward-model validation (`robopref validate`), as a frozen dataclass."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class ValidateConfig:
    """One validation run: ranking, calibration, distributions, probes and contact sheets."""

    tie_band: float = 0.1
    """With ties included, a pair is predicted a tie when |P(A≻B) − 0.5| ≤ tie_band."""
    calibration_bins: int = 10
    """Equal-width bins of P(A≻B) on [0, 1] for the reliability diagram and the ECE."""
    histogram_bins: int = 30
    """Bins of the reward histograms (shared by all tiers, so overlaps are comparable)."""
    min_expert_random_auc: float = 0.9
    """Expert vs random separate when P(r_expert > r_random) reaches this; below, the report
    says the two distributions overlap (seed 004: 'the reward model has failed')."""
    probe_threshold: float = 0.5
    """A probe's |Spearman ρ| between reward and the feature must reach this to be flagged."""
    probe_margin: float = 0.1
    """…and exceed the ground truth's own correlation with the feature (in the reward's
    direction) by more than this."""
    max_probe_trajectories: int = 500
    """The stillness probe decodes frames for at most this many trajectories (evenly spaced
    over the reward ranking); the other probes use the whole pool."""
    sheet_count: int = 20
    """Trajectories on each contact sheet (highest and lowest scored)."""
    sheet_frames: int = 6
    """Frames per trajectory on a contact sheet, evenly spaced from first to last."""
    sheet_thumb_px: int = 96
    """Side of each thumbnail on a contact sheet, in pixels."""
    camera: str | None = None
    """Camera for contact sheets and the stillness probe; None takes the pool's primary one."""
    score_batch: int = 64
    """Trajectories per `score` call when a model scores the pool."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.tie_band < 0.5:
            raise ValueError(f"tie_band: must lie in [0, 0.5), got {self.tie_band}")
        if not 0.5 < self.min_expert_random_auc <= 1.0:
            raise ValueError(
                f"min_expert_random_auc: must lie in (0.5, 1], got {self.min_expert_random_auc}"
            )
        if not 0.0 < self.probe_threshold <= 1.0:
            raise ValueError(f"probe_threshold: must lie in (0, 1], got {self.probe_threshold}")
        if not 0.0 <= self.probe_margin < 1.0:
            raise ValueError(f"probe_margin: must lie in [0, 1), got {self.probe_margin}")
        for name in (
            "calibration_bins",
            "histogram_bins",
            "max_probe_trajectories",
            "sheet_count",
            "sheet_frames",
            "score_batch",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: must be ≥ 1, got {getattr(self, name)}")
        if self.sheet_thumb_px < 16:
            raise ValueError(f"sheet_thumb_px: must be ≥ 16, got {self.sheet_thumb_px}")

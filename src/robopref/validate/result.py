"""The validation result: `ValidationReport` and its JSON form (report.json)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from robopref import __version__
from robopref.validate.distribution import DistributionMetrics
from robopref.validate.probes import Probe
from robopref.validate.ranking import RankingMetrics
from robopref.validate.sheets import SheetEntry

SCHEMA_VERSION = 1
"""Version of report.json."""


@dataclass(frozen=True, kw_only=True)
class ValidationReport:
    """Everything a validation run measured (report.json is `to_json()`)."""

    n_trajectories: int
    """Trajectories scored (the whole pool)."""
    n_test_pairs: int
    """Held-out pairs evaluated (0 when none were given)."""
    camera: str | None
    """Camera of the contact sheets and the stillness probe; None for pools without frames."""
    ranking: RankingMetrics | None
    """Part 1: held-out ranking accuracy and calibration; None without held-out pairs."""
    distribution: DistributionMetrics
    """Part 2: reward distributions and correlations with the ground truth."""
    probes: list[Probe]
    """Part 3: reward-hacking probes."""
    top: list[SheetEntry]
    """The highest scored trajectories, highest first."""
    bottom: list[SheetEntry]
    """The lowest scored trajectories, lowest first."""
    files: dict[str, str] = field(default_factory=dict)
    """Name → path relative to the output folder (plots, sheets, rewards)."""
    notes: list[str] = field(default_factory=list)
    """What was skipped and why."""
    config: dict[str, Any] = field(default_factory=dict)
    """The ValidateConfig used."""

    @property
    def flagged(self) -> list[str]:
        """Names of the probes that flag possible reward hacking."""
        return [p.name for p in self.probes if p.flagged]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (NaN becomes null) with schema_version and robopref_version."""
        body = _finite(asdict(self))
        return {
            "schema_version": SCHEMA_VERSION,
            "robopref_version": __version__,
            "flagged_probes": self.flagged,
            **body,
        }

    def summary_line(self) -> str:
        """One line: accuracy, Spearman ρ vs quality_score, flags."""
        acc = self.ranking.overall.accuracy if self.ranking else None
        rho = self.distribution.correlations.get("quality_score")
        flags = ", ".join(self.flagged) or "none"
        return (
            f"validated {self.n_trajectories} trajectories, {self.n_test_pairs} test pairs: "
            f"accuracy {_fmt(acc)}, Spearman ρ vs quality {_fmt(rho.rho if rho else None)}, "
            f"hacking flags: {flags}"
        )


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, np.generic):
        return _finite(value.item())
    return value

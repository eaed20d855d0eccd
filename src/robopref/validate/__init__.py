"""Reward-model validation: held-out ranking, distributions vs ground truth, hacking probes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from robopref.lazy_exports import lazy_getattr

if TYPE_CHECKING:
    from robopref.validate.config import ValidateConfig
    from robopref.validate.inputs import load_pairs, load_rewards, score_pool
    from robopref.validate.report import ValidationReport, read_report, validate
    from robopref.validate.run import held_out_pairs, run_validation

_WHERE = {
    "ValidateConfig": ("config", "ValidateConfig"),
    "load_pairs": ("inputs", "load_pairs"),
    "load_rewards": ("inputs", "load_rewards"),
    "score_pool": ("inputs", "score_pool"),
    "ValidationReport": ("report", "ValidationReport"),
    "read_report": ("report", "read_report"),
    "validate": ("report", "validate"),
    "held_out_pairs": ("run", "held_out_pairs"),
    "run_validation": ("run", "run_validation"),
}

__all__ = [
    "ValidateConfig",
    "ValidationReport",
    "held_out_pairs",
    "load_pairs",
    "load_rewards",
    "read_report",
    "run_validation",
    "score_pool",
    "validate",
]

__getattr__ = lazy_getattr(__name__, _WHERE)

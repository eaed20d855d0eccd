"""Reward-model validation: held-out ranking, distributions vs ground truth, hacking probes."""

from robopref.validate.config import ValidateConfig
from robopref.validate.inputs import RewardScorer, load_pairs, load_rewards, score_pool
from robopref.validate.report import ValidationReport, read_report, validate
from robopref.validate.run import held_out_pairs, run_validation

__all__ = [
    "RewardScorer",
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

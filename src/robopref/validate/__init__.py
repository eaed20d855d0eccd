"""Reward-model validation: held-out ranking, distributions vs ground truth, hacking probes."""

from robopref.validate.config import ValidateConfig
from robopref.validate.inputs import RewardScorer, load_pairs, load_rewards, score_pool
from robopref.validate.report import ValidationReport, read_report, validate

__all__ = [
    "RewardScorer",
    "ValidateConfig",
    "ValidationReport",
    "load_pairs",
    "load_rewards",
    "read_report",
    "score_pool",
    "validate",
]

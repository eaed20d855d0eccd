"""Preference campaigns: calibration and certification, production batches, QA, export."""

from robopref.campaign.certify import assign_retests, certify
from robopref.campaign.config import CampaignConfig
from robopref.campaign.simulated import CampaignResult, run_simulated_campaign

__all__ = [
    "CampaignConfig",
    "CampaignResult",
    "assign_retests",
    "certify",
    "run_simulated_campaign",
]

"""Preference campaigns: calibration and certification, production batches, QA, export."""

from __future__ import annotations

from typing import TYPE_CHECKING

from robopref.lazy_exports import lazy_getattr

if TYPE_CHECKING:
    from robopref.campaign.certification import assign_retests, certify
    from robopref.campaign.config import CampaignConfig
    from robopref.campaign.simulated import CampaignResult, run_simulated_campaign

_WHERE = {
    "assign_retests": ("certification", "assign_retests"),
    "certify": ("certification", "certify"),
    "CampaignConfig": ("config", "CampaignConfig"),
    "CampaignResult": ("simulated", "CampaignResult"),
    "run_simulated_campaign": ("simulated", "run_simulated_campaign"),
}

__all__ = [
    "CampaignConfig",
    "CampaignResult",
    "assign_retests",
    "certify",
    "run_simulated_campaign",
]

__getattr__ = lazy_getattr(__name__, _WHERE)

"""Preference campaigns: calibration and certification, production batches, QA, export."""

from __future__ import annotations

from typing import TYPE_CHECKING

from robopref.lazy_exports import lazy_getattr

if TYPE_CHECKING:
    from robopref.campaign.accounts import Invitation, invite_annotator
    from robopref.campaign.certification import (
        assign_next_set,
        assign_retests,
        certification_attempts,
        certify,
    )
    from robopref.campaign.config import CampaignConfig
    from robopref.campaign.live_certification import (
        CalibrationFeedback,
        FeedbackItem,
        NextStep,
        Phase,
        calibration_feedback,
        finish_calibration,
        finish_if_calibration_done,
        phase_of,
        start_calibration,
    )
    from robopref.campaign.serving import NextWork, next_ranking_for, next_work
    from robopref.campaign.simulated import CampaignResult, run_simulated_campaign

_WHERE = {
    "Invitation": ("accounts", "Invitation"),
    "invite_annotator": ("accounts", "invite_annotator"),
    "assign_next_set": ("certification", "assign_next_set"),
    "assign_retests": ("certification", "assign_retests"),
    "certification_attempts": ("certification", "certification_attempts"),
    "certify": ("certification", "certify"),
    "CampaignConfig": ("config", "CampaignConfig"),
    "CalibrationFeedback": ("live_certification", "CalibrationFeedback"),
    "FeedbackItem": ("live_certification", "FeedbackItem"),
    "NextStep": ("live_certification", "NextStep"),
    "Phase": ("live_certification", "Phase"),
    "calibration_feedback": ("live_certification", "calibration_feedback"),
    "finish_calibration": ("live_certification", "finish_calibration"),
    "finish_if_calibration_done": ("live_certification", "finish_if_calibration_done"),
    "phase_of": ("live_certification", "phase_of"),
    "start_calibration": ("live_certification", "start_calibration"),
    "NextWork": ("serving", "NextWork"),
    "next_work": ("serving", "next_work"),
    "next_ranking_for": ("serving", "next_ranking_for"),
    "CampaignResult": ("simulated", "CampaignResult"),
    "run_simulated_campaign": ("simulated", "run_simulated_campaign"),
}

__all__ = [
    "CalibrationFeedback",
    "CampaignConfig",
    "CampaignResult",
    "FeedbackItem",
    "Invitation",
    "NextStep",
    "NextWork",
    "Phase",
    "assign_next_set",
    "assign_retests",
    "calibration_feedback",
    "certification_attempts",
    "certify",
    "finish_calibration",
    "finish_if_calibration_done",
    "invite_annotator",
    "next_ranking_for",
    "next_work",
    "phase_of",
    "run_simulated_campaign",
    "start_calibration",
]

__getattr__ = lazy_getattr(__name__, _WHERE)

"""Reward models: Bradley–Terry training with ties and weights, ensembles, scoring, ONNX export.

Names are imported on first use, so `robopref.reward.config` (and the CLI's help) loads
without torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from robopref.reward.checkpoint import load_splits, save_checkpoint
    from robopref.reward.checkpoint_format import load_checkpoint
    from robopref.reward.checkpoint_format import load_checkpoint as load
    from robopref.reward.config import (
        EncoderConfig,
        LossConfig,
        SplitKind,
        Temporal,
        TieMode,
        TrainConfig,
        config_from_dict,
        config_to_json,
    )
    from robopref.reward.data import Splits, make_splits, read_preferences
    from robopref.reward.encoders import REGISTRY
    from robopref.reward.losses import PairTargets, bradley_terry_loss
    from robopref.reward.onnx import export_onnx, input_format
    from robopref.reward.run import TrainResult, train_reward_model
    from robopref.reward.score import ModelInputs, RewardModel, score_pool
    from robopref.reward.train import EpochStats, ranking_accuracy

_WHERE = {
    "load": ("checkpoint_format", "load_checkpoint"),  # checks the files before torch loads
    "load_checkpoint": ("checkpoint_format", "load_checkpoint"),
    "load_splits": ("checkpoint", "load_splits"),
    "save_checkpoint": ("checkpoint", "save_checkpoint"),
    **{
        name: ("config", name)
        for name in (
            "EncoderConfig",
            "LossConfig",
            "SplitKind",
            "Temporal",
            "TieMode",
            "TrainConfig",
            "config_from_dict",
            "config_to_json",
        )
    },
    **{name: ("data", name) for name in ("Splits", "make_splits", "read_preferences")},
    "REGISTRY": ("encoders", "REGISTRY"),
    **{name: ("losses", name) for name in ("PairTargets", "bradley_terry_loss")},
    **{name: ("onnx", name) for name in ("export_onnx", "input_format")},
    **{name: ("run", name) for name in ("TrainResult", "train_reward_model")},
    **{name: ("score", name) for name in ("ModelInputs", "RewardModel", "score_pool")},
    **{name: ("train", name) for name in ("EpochStats", "ranking_accuracy")},
}

__all__ = [
    "REGISTRY",
    "EncoderConfig",
    "EpochStats",
    "LossConfig",
    "ModelInputs",
    "PairTargets",
    "RewardModel",
    "SplitKind",
    "Splits",
    "Temporal",
    "TieMode",
    "TrainConfig",
    "TrainResult",
    "bradley_terry_loss",
    "config_from_dict",
    "config_to_json",
    "export_onnx",
    "input_format",
    "load",
    "load_checkpoint",
    "load_splits",
    "make_splits",
    "ranking_accuracy",
    "read_preferences",
    "save_checkpoint",
    "score_pool",
    "train_reward_model",
]


def __getattr__(name: str) -> Any:
    """Import a public name from its module on first use."""
    if name not in _WHERE:
        raise AttributeError(f"module 'robopref.reward' has no attribute {name!r}")
    module, attr = _WHERE[name]
    value = getattr(importlib.import_module(f"robopref.reward.{module}"), attr)
    globals()[name] = value
    return value

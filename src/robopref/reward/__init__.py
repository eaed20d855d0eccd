"""Reward models: Bradley–Terry training with ties and weights, ensembles, scoring, ONNX export."""

from robopref.reward.checkpoint import load_checkpoint, load_splits, save_checkpoint
from robopref.reward.checkpoint import load_checkpoint as load
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
from robopref.reward.run import TrainResult, train_reward_model
from robopref.reward.score import ModelInputs, RewardModel, score_pool
from robopref.reward.train import EpochStats, ranking_accuracy

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

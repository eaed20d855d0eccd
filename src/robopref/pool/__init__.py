"""Trajectory pool: the Trajectory record, the pool folder, metrics, rubric and tiers."""

from robopref.pool.config import MetricsConfig, PoolConfig, RubricConfig
from robopref.pool.metrics import TrajectoryMetrics, compute_metrics
from robopref.pool.pool import (
    Pool,
    PoolTransaction,
    append_to_pool,
    pool_transaction,
    set_manifest_column,
    stage_trajectory,
)
from robopref.pool.pool import open_pool as open
from robopref.pool.rubric import RubricScore, rubric_score
from robopref.pool.schema import MANIFEST_SCHEMA
from robopref.pool.tiers import assign_quartiles, score_manifest
from robopref.pool.trajectory import ContactLog, Trajectory

__all__ = [
    "MANIFEST_SCHEMA",
    "ContactLog",
    "MetricsConfig",
    "Pool",
    "PoolConfig",
    "PoolTransaction",
    "RubricConfig",
    "RubricScore",
    "Trajectory",
    "TrajectoryMetrics",
    "append_to_pool",
    "assign_quartiles",
    "compute_metrics",
    "open",
    "pool_transaction",
    "rubric_score",
    "score_manifest",
    "set_manifest_column",
    "stage_trajectory",
]

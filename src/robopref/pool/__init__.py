"""Trajectory pool: the Trajectory record, the pool folder, metrics, rubric and tiers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from robopref.lazy_exports import lazy_getattr

if TYPE_CHECKING:
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

_WHERE = {
    "MetricsConfig": ("config", "MetricsConfig"),
    "PoolConfig": ("config", "PoolConfig"),
    "RubricConfig": ("config", "RubricConfig"),
    "TrajectoryMetrics": ("metrics", "TrajectoryMetrics"),
    "compute_metrics": ("metrics", "compute_metrics"),
    "Pool": ("pool", "Pool"),
    "PoolTransaction": ("pool", "PoolTransaction"),
    "append_to_pool": ("pool", "append_to_pool"),
    "pool_transaction": ("pool", "pool_transaction"),
    "set_manifest_column": ("pool", "set_manifest_column"),
    "stage_trajectory": ("pool", "stage_trajectory"),
    "open": ("pool", "open_pool"),
    "RubricScore": ("rubric", "RubricScore"),
    "rubric_score": ("rubric", "rubric_score"),
    "MANIFEST_SCHEMA": ("schema", "MANIFEST_SCHEMA"),
    "assign_quartiles": ("tiers", "assign_quartiles"),
    "score_manifest": ("tiers", "score_manifest"),
    "ContactLog": ("trajectory", "ContactLog"),
    "Trajectory": ("trajectory", "Trajectory"),
}

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

__getattr__ = lazy_getattr(__name__, _WHERE)

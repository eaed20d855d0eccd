"""The manifest schema (the public contract's pool columns), defined once."""

from __future__ import annotations

import pyarrow as pa

SCHEMA_VERSION = 1
"""Version of the pool folder layout; `open` rejects pools written with another one."""

MANIFEST_SCHEMA = pa.schema(
    [
        # identity and provenance
        pa.field("trajectory_id", pa.string(), nullable=False),
        pa.field("task", pa.string(), nullable=False),
        pa.field("env_id", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("tier", pa.string(), nullable=False),
        pa.field("source_dataset", pa.string()),
        pa.field("source_episode", pa.string()),
        pa.field("seed", pa.int64()),
        # outcome and timing
        pa.field("success", pa.bool_(), nullable=False),
        pa.field("success_known", pa.bool_(), nullable=False),
        pa.field("n_steps", pa.int32(), nullable=False),
        pa.field("fps", pa.float64(), nullable=False),
        pa.field("duration_s", pa.float64(), nullable=False),
        pa.field("horizon_s", pa.float64()),
        pa.field("time_to_success_s", pa.float64()),
        # metrics (robopref.pool.metrics.TrajectoryMetrics)
        pa.field("collisions", pa.int32(), nullable=False),
        pa.field("minor_collisions", pa.int32(), nullable=False),
        pa.field("major_collisions", pa.int32(), nullable=False),
        pa.field("peak_force_n", pa.float64(), nullable=False),
        pa.field("min_clearance_m", pa.float64()),
        pa.field("frac_under_5cm", pa.float64()),
        pa.field("frac_under_2cm", pa.float64()),
        pa.field("path_length_m", pa.float64(), nullable=False),
        pa.field("straight_line_m", pa.float64(), nullable=False),
        pa.field("path_efficiency", pa.float64(), nullable=False),
        pa.field("jerk", pa.float64(), nullable=False),
        pa.field("jerk_log_dimensionless", pa.float64(), nullable=False),
        pa.field("gripper_changes", pa.int32(), nullable=False),
        pa.field("gripper_closed_frac", pa.float64(), nullable=False),
        pa.field("progress", pa.float64()),
        pa.field("final_goal_distance_m", pa.float64()),
        # benchmark ground truth (robopref.pool.true_return): simulated pools only
        pa.field("true_return", pa.float64()),
        # rubric (robopref.pool.rubric) and tiers
        pa.field("quality_score", pa.float64(), nullable=False),
        pa.field("disqualified", pa.bool_(), nullable=False),
        pa.field("efficiency_score", pa.float64(), nullable=False),
        pa.field("naturalness_score", pa.float64(), nullable=False),
        pa.field("quartile", pa.int8(), nullable=False),
        # media
        pa.field("cameras", pa.list_(pa.string()), nullable=False),
        pa.field("clip_path", pa.string()),
        pa.field("added_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)
"""Columns of `POOL/manifest.parquet`; writers cast to it, readers validate against it."""

LATER_COLUMNS = ("true_return",)
"""Nullable columns added after SCHEMA_VERSION 1 was frozen: pools written before them read
with the column null."""

CONTRACT_COLUMNS = (
    "trajectory_id",
    "task",
    "env_id",
    "source",
    "success",
    "n_steps",
    "fps",
    "duration_s",
    "collisions",
    "min_clearance_m",
    "path_length_m",
    "jerk",
    "gripper_changes",
    "quality_score",
    "quartile",
    "clip_path",
    "source_dataset",
    "source_episode",
)
"""The manifest columns DESIGN.md names; tests/test_contract.py keeps the two in step."""

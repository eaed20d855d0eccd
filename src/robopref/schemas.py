"""The public preference schemas (DESIGN.md): raw annotations and the aggregated export.

They live at the base layer because the store writes raw annotations, quality aggregates
them and release packages both; each is defined here once.
"""

from __future__ import annotations

import pyarrow as pa

PREFERENCES_SCHEMA_VERSION = 1

PREFERENCES_SCHEMA = pa.schema(
    [
        pa.field("pair_id", pa.string(), nullable=False),
        pa.field("trajectory_a_id", pa.string(), nullable=False),
        pa.field("trajectory_b_id", pa.string(), nullable=False),
        pa.field("preference", pa.float64(), nullable=False),
        pa.field("confidence_mean", pa.float64(), nullable=False),
        pa.field("num_annotators", pa.int32(), nullable=False),
        pa.field("agreement", pa.float64(), nullable=False),
        pa.field("annotator_ids", pa.list_(pa.string()), nullable=False),
        pa.field("task", pa.string()),
        pa.field("source", pa.string()),
    ]
)
"""`preferences.parquet` / `.jsonl`: one row per pair. preference is 1.0 (A preferred),
0.0 (B preferred) or 0.5 (tie); agreement is the fraction agreeing with the majority.
`source` says where the label came from (`human`, `simulated:<teacher>`, `ai:<labeler>`,
`ranking`)."""

ANNOTATIONS_SCHEMA = pa.schema(
    [
        pa.field("annotation_id", pa.string(), nullable=False),
        pa.field("pair_id", pa.string(), nullable=False),
        pa.field("trajectory_a_id", pa.string(), nullable=False),
        pa.field("trajectory_b_id", pa.string(), nullable=False),
        pa.field("annotator_id", pa.string(), nullable=False),
        pa.field("preference", pa.string(), nullable=False),
        pa.field("confidence", pa.int8(), nullable=False),
        pa.field("response_time_ms", pa.int64(), nullable=False),
        pa.field("free_text_reason", pa.string()),
        pa.field("left_trajectory_id", pa.string(), nullable=False),
        pa.field("batch_id", pa.string()),
        pa.field("rubric_answers", pa.string()),
        pa.field("interface_version", pa.string()),
        pa.field("shown_at", pa.timestamp("us", tz="UTC")),
        pa.field("created_at", pa.timestamp("us", tz="UTC"), nullable=False),
    ]
)
"""Raw annotations, one row per judgement: preference is `A`, `B` or `equal` (about the
pair's A/B, not the screen side); `left_trajectory_id` records the presentation order;
`rubric_answers` is a JSON object of the rubric sub-questions."""

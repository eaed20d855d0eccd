"""The aggregated preferences as a download, written by the `robopref qa` writer."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd

from robopref.quality import write_preferences

MEDIA_TYPES = {"parquet": "application/vnd.apache.parquet", "jsonl": "application/x-ndjson"}
"""Export format → Content-Type."""


def preferences_file(preferences: pd.DataFrame, fmt: str) -> bytes:
    """`preferences.<fmt>` (`parquet` or `jsonl`, PREFERENCES_SCHEMA) as bytes.

    Raises:
        ValueError: An unknown format.
    """
    if fmt not in MEDIA_TYPES:
        raise ValueError(f"fmt: {fmt!r} is neither parquet nor jsonl")
    with tempfile.TemporaryDirectory(prefix="robopref-export-") as folder:
        files = write_preferences(preferences, folder)
        return Path(files.parquet if fmt == "parquet" else files.jsonl).read_bytes()

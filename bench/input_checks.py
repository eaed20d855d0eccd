"""What the input checks cost: rows/s for a checked manifest and a checked annotations file.

Builds a 100,000-row manifest (a tiny pool's rows repeated under fresh ids) and a
300,000-row annotations file, then times, best of five, reading each the unchecked way
(pyarrow → pandas) and the checked way (`robopref.pool.manifest.read_manifest`,
`robopref.tables.read_table_file`). Prints rows/s and the checked/unchecked time ratio.

    .venv/bin/python bench/input_checks.py [--manifest-rows 100000] [--annotation-rows 300000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from robopref.pool.manifest import read_manifest
from robopref.pool.schema import MANIFEST_SCHEMA
from robopref.schemas import ANNOTATIONS_TABLE
from robopref.tables import read_table_file
from robopref.testing import tiny_pool


def best_of(run: Callable[[], object], repeats: int = 5) -> float:
    """The fastest of `repeats` runs, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def big_manifest(folder: Path, rows: int) -> Path:
    """A manifest of `rows` rows: a tiny pool's rows repeated under fresh trajectory ids."""
    pool = tiny_pool(folder / "pool", n=20, frame_size=None)
    base = pool.manifest
    frame = base.iloc[np.arange(rows) % len(base)].reset_index(drop=True)
    frame["trajectory_id"] = [f"bench-{i:07d}" for i in range(rows)]
    path = folder / "manifest.parquet"
    pq.write_table(pa.Table.from_pandas(frame, schema=MANIFEST_SCHEMA, preserve_index=False), path)
    return path


def big_annotations(folder: Path, rows: int) -> Path:
    """`rows` raw annotations over 1,000 trajectories and 3 annotators per pair."""
    rng = np.random.default_rng(0)
    pairs = rows // 3
    a = rng.integers(0, 1000, pairs)
    b = (a + rng.integers(1, 999, pairs)) % 1000
    start = datetime(2026, 1, 1, tzinfo=UTC)
    frame = pd.DataFrame({
        "annotation_id": [f"an-{i:07d}" for i in range(pairs * 3)],
        "pair_id": np.repeat([f"p-{i:07d}" for i in range(pairs)], 3),
        "trajectory_a_id": np.repeat([f"t-{i:04d}" for i in a], 3),
        "trajectory_b_id": np.repeat([f"t-{i:04d}" for i in b], 3),
        "annotator_id": np.tile(["ann-1", "ann-2", "ann-3"], pairs),
        "preference": rng.choice(["A", "B", "equal"], pairs * 3),
        "confidence": rng.integers(1, 6, pairs * 3),
        "response_time_ms": rng.integers(3000, 60000, pairs * 3),
        "free_text_reason": None,
        "left_trajectory_id": np.repeat([f"t-{i:04d}" for i in a], 3),
        "batch_id": "b-1",
        "shown_at": [start + timedelta(seconds=i) for i in range(pairs * 3)],
        "created_at": [start + timedelta(seconds=i + 5) for i in range(pairs * 3)],
    })  # fmt: skip
    path = folder / "annotations.parquet"
    frame.to_parquet(path)
    return path


def report(name: str, rows: int, plain_s: float, checked_s: float) -> None:
    """One line: rows/s checked and unchecked, and their ratio."""
    print(f"{name}: {rows:,} rows — checked {rows / checked_s:,.0f} rows/s ({checked_s:.3f} s), "
          f"unchecked {rows / plain_s:,.0f} rows/s ({plain_s:.3f} s), "
          f"checked/unchecked time {checked_s / plain_s:.2f}×")  # fmt: skip


def main() -> None:
    """Build the inputs and print the two lines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest-rows", type=int, default=100_000)
    parser.add_argument("--annotation-rows", type=int, default=300_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        manifest = big_manifest(folder, args.manifest_rows)
        plain = best_of(lambda: pq.read_table(manifest).to_pandas())
        checked = best_of(lambda: read_manifest(manifest))
        report("manifest.parquet", args.manifest_rows, plain, checked)
        annotations = big_annotations(folder, args.annotation_rows)
        rows = pq.read_metadata(annotations).num_rows
        plain = best_of(lambda: pq.read_table(annotations).to_pandas())
        checked = best_of(lambda: read_table_file(annotations, ANNOTATIONS_TABLE))
        report("annotations.parquet", rows, plain, checked)


if __name__ == "__main__":
    main()

"""Reading a manifest for pair selection (through the pool's check) and writing batches."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import NamedTuple

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from robopref import __version__
from robopref.errors import InputError
from robopref.outputs import check_output_dir, output_folder
from robopref.pairs.config import PairsConfig
from robopref.pairs.records import ASSIGNMENT_COLUMNS, PairBatch
from robopref.pool.manifest import MANIFEST
from robopref.pool.manifest import read_manifest as read_pool_manifest
from robopref.schemas import Column, Kind, TableSpec
from robopref.tables import read_table_file

PAIRS_FILE = "pairs.parquet"
ASSIGNMENTS_FILE = "assignments.parquet"
BATCHES_FILE = "batches.json"


class BatchFiles(NamedTuple):
    """Where `write_batches` put the batches."""

    pairs: Path
    """Every pair of every batch (`PAIR_COLUMNS`)."""
    assignments: Path
    """Every assignment (`ASSIGNMENT_COLUMNS` plus `batch_id`)."""
    batches: Path
    """JSON: each batch's id, kind, counts and ranking sets."""


def read_manifest(path: str | Path) -> pd.DataFrame:
    """The manifest of a pool folder, or a manifest Parquet file, checked as the pool checks it.

    Either way the file goes through `robopref.pool.manifest.read_manifest`: every
    MANIFEST_SCHEMA column present, typed, in range and safe.

    Raises:
        InputError: The path is neither, or the manifest is unreadable or malformed (naming
            the file and the column).
    """
    path = Path(path)
    if path.is_dir():
        return read_pool_manifest(path / MANIFEST)
    if not path.is_file():
        raise InputError(path, "manifest", "not a pool folder or a manifest .parquet file")
    return read_pool_manifest(path)


LABELLED_TABLE = TableSpec(
    name="labelled pairs",
    columns=(Column("trajectory_a_id", Kind.ID), Column("trajectory_b_id", Kind.ID)),
    distinct=("trajectory_a_id", "trajectory_b_id"),
)
"""What `read_labelled_pairs` reads of a preferences, annotations or pairs file."""


def read_labelled_pairs(path: str | Path) -> list[tuple[str, str]]:
    """The (A, B) trajectory pairs of a preferences, annotations or pairs table file.

    Only `trajectory_a_id` and `trajectory_b_id` are read (and checked); a pair labelled by
    several annotators comes back once.

    Raises:
        InputError: The file is unreadable, lacks either column, or holds a bad id.
    """
    frame = read_table_file(path, LABELLED_TABLE)
    pairs = zip(frame["trajectory_a_id"], frame["trajectory_b_id"], strict=True)
    return list(dict.fromkeys((str(a), str(b)) for a, b in pairs))


def write_batches(
    batches: Sequence[PairBatch],
    out_dir: str | Path,
    *,
    config: PairsConfig | None = None,
    record: Mapping[str, object] | None = None,
) -> BatchFiles:
    """Write batches' pairs, assignments and descriptions, each file atomically.

    Args:
        batches: Production, calibration and ranking batches.
        out_dir: Folder to write: absent, empty or an earlier batch folder (replaced whole).
        config: When given, written as `config.json` with the robopref version.
        record: More JSON-ready entries for `config.json` (e.g. the active-selection config).

    Returns:
        The three paths.
    """
    out = Path(out_dir)
    check_pairs_out(out)
    pairs = pd.concat([b.pairs_frame() for b in batches], ignore_index=True)
    assignments = pd.concat(
        [b.assignments_frame().assign(batch_id=b.batch_id) for b in batches], ignore_index=True
    )[[*ASSIGNMENT_COLUMNS, "batch_id"]]
    pairs["expected_preference"] = pairs["expected_preference"].astype(object)
    pairs["duplicate_of"] = pairs["duplicate_of"].astype(object)
    with output_folder(out, OUTPUT_KIND, option="OUT", recognise=_is_pairs_folder) as staged:
        pq.write_table(_table(pairs), staged / PAIRS_FILE)
        pq.write_table(_table(assignments), staged / ASSIGNMENTS_FILE)
        described = [_describe(b) for b in batches]
        (staged / BATCHES_FILE).write_text(json.dumps(described, indent=1))
        if config is not None:
            written = {"robopref_version": __version__, "config": asdict(config), **(record or {})}
            (staged / "config.json").write_text(json.dumps(written, indent=1))
    return BatchFiles(out / PAIRS_FILE, out / ASSIGNMENTS_FILE, out / BATCHES_FILE)


OUTPUT_KIND = "pairs"
"""The `robopref.outputs` kind of a batch folder (`robopref pairs POOL OUT`)."""


def check_pairs_out(out: Path) -> None:
    """Refuse `out` unless absent, empty, or an earlier batch folder (`robopref.outputs`)."""
    check_output_dir(out, OUTPUT_KIND, option="OUT", recognise=_is_pairs_folder)


def _is_pairs_folder(folder: Path) -> bool:
    """A batch folder written before output markers existed."""
    return (folder / PAIRS_FILE).is_file() and (folder / BATCHES_FILE).is_file()


def _table(frame: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(frame, preserve_index=False)


def _describe(batch: PairBatch) -> dict[str, object]:
    return {
        "batch_id": batch.batch_id,
        "kind": batch.kind.value,
        "rubric": batch.rubric,
        "pairs": len(batch.pairs),
        "assignments": len(batch.assignments),
        "ranking_sets": [
            {
                "ranking_set_id": r.ranking_set_id,
                "task": r.task,
                "trajectory_ids": list(r.trajectory_ids),
                "annotator_ids": list(r.annotator_ids),
            }
            for r in batch.ranking_sets
        ],
    }

"""Pair selection: stratified batches, assignments, duplicates, calibration and ranking sets."""

from robopref.pairs.assignment import assign_pairs, reversed_duplicate
from robopref.pairs.batches import select_batches
from robopref.pairs.calibration import (
    DIMENSIONS,
    CalibrationSet,
    calibration_assignments,
    select_calibration_sets,
)
from robopref.pairs.config import PairsConfig
from robopref.pairs.files import BatchFiles, read_manifest, write_batches
from robopref.pairs.ranking import RANKING_PAIR_COLUMNS, expand_ranking, select_ranking_sets
from robopref.pairs.records import (
    ASSIGNMENT_COLUMNS,
    PAIR_COLUMNS,
    AssignmentSpec,
    PairBatch,
    PairSpec,
    RankingSetSpec,
)
from robopref.pairs.stratified import select_pairs

__all__ = [
    "ASSIGNMENT_COLUMNS",
    "DIMENSIONS",
    "PAIR_COLUMNS",
    "RANKING_PAIR_COLUMNS",
    "AssignmentSpec",
    "BatchFiles",
    "CalibrationSet",
    "PairBatch",
    "PairSpec",
    "PairsConfig",
    "RankingSetSpec",
    "assign_pairs",
    "calibration_assignments",
    "expand_ranking",
    "read_manifest",
    "reversed_duplicate",
    "select_batches",
    "select_calibration_sets",
    "select_pairs",
    "select_ranking_sets",
    "write_batches",
]

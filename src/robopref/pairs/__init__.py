"""Pair selection: stratified and active batches, assignments, duplicates, calibration, ranking."""

from __future__ import annotations

from typing import TYPE_CHECKING

from robopref.lazy_exports import lazy_getattr

if TYPE_CHECKING:
    from robopref.pairs.active import select_active
    from robopref.pairs.assignment import assign_pairs, reversed_duplicate
    from robopref.pairs.batches import select_batches
    from robopref.pairs.calibration import (
        DIMENSIONS,
        CalibrationSet,
        calibration_assignments,
        select_calibration_sets,
    )
    from robopref.pairs.config import ActiveConfig, PairsConfig
    from robopref.pairs.files import (
        BatchFiles,
        read_labelled_pairs,
        read_manifest,
        write_batches,
    )
    from robopref.pairs.ranking import RANKING_PAIR_COLUMNS, expand_ranking, select_ranking_sets
    from robopref.pairs.records import (
        ASSIGNMENT_COLUMNS,
        PAIR_COLUMNS,
        AssignmentSpec,
        PairBatch,
        PairSpec,
        RankingSetSpec,
    )
    from robopref.pairs.scores import ScoreCache, member_scores
    from robopref.pairs.stratified import select_pairs

_WHERE = {
    "select_active": ("active", "select_active"),
    "ActiveConfig": ("config", "ActiveConfig"),
    "ScoreCache": ("scores", "ScoreCache"),
    "member_scores": ("scores", "member_scores"),
    "assign_pairs": ("assignment", "assign_pairs"),
    "reversed_duplicate": ("assignment", "reversed_duplicate"),
    "select_batches": ("batches", "select_batches"),
    "DIMENSIONS": ("calibration", "DIMENSIONS"),
    "CalibrationSet": ("calibration", "CalibrationSet"),
    "calibration_assignments": ("calibration", "calibration_assignments"),
    "select_calibration_sets": ("calibration", "select_calibration_sets"),
    "PairsConfig": ("config", "PairsConfig"),
    "BatchFiles": ("files", "BatchFiles"),
    "read_labelled_pairs": ("files", "read_labelled_pairs"),
    "read_manifest": ("files", "read_manifest"),
    "write_batches": ("files", "write_batches"),
    "RANKING_PAIR_COLUMNS": ("ranking", "RANKING_PAIR_COLUMNS"),
    "expand_ranking": ("ranking", "expand_ranking"),
    "select_ranking_sets": ("ranking", "select_ranking_sets"),
    "ASSIGNMENT_COLUMNS": ("records", "ASSIGNMENT_COLUMNS"),
    "PAIR_COLUMNS": ("records", "PAIR_COLUMNS"),
    "AssignmentSpec": ("records", "AssignmentSpec"),
    "PairBatch": ("records", "PairBatch"),
    "PairSpec": ("records", "PairSpec"),
    "RankingSetSpec": ("records", "RankingSetSpec"),
    "select_pairs": ("stratified", "select_pairs"),
}

__all__ = [
    "ASSIGNMENT_COLUMNS",
    "DIMENSIONS",
    "PAIR_COLUMNS",
    "RANKING_PAIR_COLUMNS",
    "ActiveConfig",
    "AssignmentSpec",
    "BatchFiles",
    "CalibrationSet",
    "PairBatch",
    "PairSpec",
    "PairsConfig",
    "RankingSetSpec",
    "ScoreCache",
    "assign_pairs",
    "calibration_assignments",
    "expand_ranking",
    "member_scores",
    "read_labelled_pairs",
    "read_manifest",
    "reversed_duplicate",
    "select_active",
    "select_batches",
    "select_calibration_sets",
    "select_pairs",
    "select_ranking_sets",
    "write_batches",
]

__getattr__ = lazy_getattr(__name__, _WHERE)

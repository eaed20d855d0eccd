"""Teachers: simulated annotators (B-Pref teachers with human-like traits) and their runs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from robopref.lazy_exports import lazy_getattr

if TYPE_CHECKING:
    from robopref.teachers.campaign import (
        INTERFACE_VERSION,
        cast_roster,
        parse_roster,
        simulate_batch,
    )
    from robopref.teachers.simulated import (
        TEACHERS,
        TRAITS,
        Answer,
        PairView,
        SimulatedAnnotator,
        TeacherConfig,
        TraitConfig,
        simulate_answer,
        teacher_label,
    )
    from robopref.teachers.truth import GroundTruth, truth_from_frame, truth_from_pool

_WHERE = {
    "INTERFACE_VERSION": ("campaign", "INTERFACE_VERSION"),
    "cast_roster": ("campaign", "cast_roster"),
    "parse_roster": ("campaign", "parse_roster"),
    "simulate_batch": ("campaign", "simulate_batch"),
    "TEACHERS": ("simulated", "TEACHERS"),
    "TRAITS": ("simulated", "TRAITS"),
    "Answer": ("simulated", "Answer"),
    "PairView": ("simulated", "PairView"),
    "SimulatedAnnotator": ("simulated", "SimulatedAnnotator"),
    "TeacherConfig": ("simulated", "TeacherConfig"),
    "TraitConfig": ("simulated", "TraitConfig"),
    "simulate_answer": ("simulated", "simulate_answer"),
    "teacher_label": ("simulated", "teacher_label"),
    "GroundTruth": ("truth", "GroundTruth"),
    "truth_from_frame": ("truth", "truth_from_frame"),
    "truth_from_pool": ("truth", "truth_from_pool"),
}

__all__ = [
    "INTERFACE_VERSION",
    "TEACHERS",
    "TRAITS",
    "Answer",
    "GroundTruth",
    "PairView",
    "SimulatedAnnotator",
    "TeacherConfig",
    "TraitConfig",
    "cast_roster",
    "parse_roster",
    "simulate_answer",
    "simulate_batch",
    "teacher_label",
    "truth_from_frame",
    "truth_from_pool",
]

__getattr__ = lazy_getattr(__name__, _WHERE)

"""Teachers: simulated annotators (B-Pref teachers with human-like traits) and their runs."""

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

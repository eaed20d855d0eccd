"""Teachers: simulated annotators, the `Labeler` protocol, and `label_batch`.

Simulated annotators are B-Pref teachers with human-like traits; they and AI labelers
answer a batch's assignments through the same `Labeler` protocol and `label_batch`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from robopref.lazy_exports import lazy_getattr

if TYPE_CHECKING:
    from robopref.teachers.labeler import (
        Answer,
        Labeler,
        PairView,
        Provenance,
        is_ai_label,
    )
    from robopref.teachers.labeling import label_batch, pair_view
    from robopref.teachers.roster import cast_roster, parse_roster
    from robopref.teachers.simulated import (
        INTERFACE_VERSION,
        SIMULATED,
        TEACHERS,
        TRAITS,
        SimulatedAnnotator,
        SimulatedLabeler,
        TeacherConfig,
        TraitConfig,
        simulate_answer,
        simulated_labelers,
        teacher_label,
    )
    from robopref.teachers.truth import GroundTruth, truth_from_frame, truth_from_pool

_WHERE = {
    **{n: ("labeler", n) for n in ("Answer", "Labeler", "PairView", "Provenance", "is_ai_label")},
    **{n: ("labeling", n) for n in ("label_batch", "pair_view")},
    **{n: ("roster", n) for n in ("cast_roster", "parse_roster")},
    **{
        n: ("simulated", n)
        for n in (
            "INTERFACE_VERSION",
            "SIMULATED",
            "TEACHERS",
            "TRAITS",
            "SimulatedAnnotator",
            "SimulatedLabeler",
            "TeacherConfig",
            "TraitConfig",
            "simulate_answer",
            "simulated_labelers",
            "teacher_label",
        )
    },
    **{n: ("truth", n) for n in ("GroundTruth", "truth_from_frame", "truth_from_pool")},
}

__all__ = [
    "INTERFACE_VERSION",
    "SIMULATED",
    "TEACHERS",
    "TRAITS",
    "Answer",
    "GroundTruth",
    "Labeler",
    "PairView",
    "Provenance",
    "SimulatedAnnotator",
    "SimulatedLabeler",
    "TeacherConfig",
    "TraitConfig",
    "cast_roster",
    "is_ai_label",
    "label_batch",
    "pair_view",
    "parse_roster",
    "simulate_answer",
    "simulated_labelers",
    "teacher_label",
    "truth_from_frame",
    "truth_from_pool",
]

__getattr__ = lazy_getattr(__name__, _WHERE)

"""Teachers: simulated annotators, AI labelers, noise routing, pseudo-labels, `label_batch`.

Simulated annotators are B-Pref teachers with human-like traits; they and the AI labelers
(rubric, transfer, vision-language) answer a batch's assignments through the same `Labeler`
protocol and `label_batch`. Noise routing keeps, flips or hands to people each AI label.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from robopref.lazy_exports import lazy_getattr

if TYPE_CHECKING:
    from robopref.teachers.ai_preferences import (
        AI_LABEL_COLUMNS,
        AI_PREFERENCES_SCHEMA,
        accuracy_by,
        ai_label_table,
        ai_preference_rows,
        label_accuracy,
        write_ai_preferences,
    )
    from robopref.teachers.labeler import (
        AI_PREFIX,
        Answer,
        Labeler,
        PairView,
        Provenance,
        TrajectorySource,
        confidence_from_p,
        is_ai_label,
    )
    from robopref.teachers.labeling import label_batch, pair_view
    from robopref.teachers.pseudo import PseudoConfig, PseudoLabels, pseudo_label
    from robopref.teachers.roster import cast_roster, parse_roster
    from robopref.teachers.routing import (
        Route,
        Routed,
        RoutingConfig,
        RoutingReport,
        label_kl,
        model_predictions,
        route_labels,
    )
    from robopref.teachers.rubric_labeler import RubricLabeler, RubricLabelerConfig
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
    from robopref.teachers.transfer_labeler import TransferLabeler, TransferLabelerConfig
    from robopref.teachers.truth import (
        GroundTruth,
        TruthColumn,
        truth_from_frame,
        truth_from_pool,
    )
    from robopref.teachers.vlm_build import VLMBuild, prepare_vlm
    from robopref.teachers.vlm_labeler import VLMLabeler, VLMScorer

_WHERE = {
    **{
        n: ("ai_preferences", n)
        for n in (
            "AI_LABEL_COLUMNS",
            "AI_PREFERENCES_SCHEMA",
            "accuracy_by",
            "ai_label_table",
            "ai_preference_rows",
            "label_accuracy",
            "write_ai_preferences",
        )
    },
    **{
        n: ("labeler", n)
        for n in (
            "AI_PREFIX",
            "Answer",
            "Labeler",
            "PairView",
            "Provenance",
            "TrajectorySource",
            "confidence_from_p",
            "is_ai_label",
        )
    },
    **{n: ("labeling", n) for n in ("label_batch", "pair_view")},
    **{n: ("pseudo", n) for n in ("PseudoConfig", "PseudoLabels", "pseudo_label")},
    **{n: ("roster", n) for n in ("cast_roster", "parse_roster")},
    **{
        n: ("routing", n)
        for n in (
            "Route",
            "Routed",
            "RoutingConfig",
            "RoutingReport",
            "label_kl",
            "model_predictions",
            "route_labels",
        )
    },
    **{n: ("rubric_labeler", n) for n in ("RubricLabeler", "RubricLabelerConfig")},
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
    **{n: ("transfer_labeler", n) for n in ("TransferLabeler", "TransferLabelerConfig")},
    **{
        n: ("truth", n)
        for n in ("GroundTruth", "TruthColumn", "truth_from_frame", "truth_from_pool")
    },
    **{n: ("vlm_build", n) for n in ("VLMBuild", "prepare_vlm")},
    **{n: ("vlm_labeler", n) for n in ("VLMLabeler", "VLMScorer")},
}

__all__ = [
    "AI_LABEL_COLUMNS",
    "AI_PREFERENCES_SCHEMA",
    "AI_PREFIX",
    "INTERFACE_VERSION",
    "SIMULATED",
    "TEACHERS",
    "TRAITS",
    "Answer",
    "GroundTruth",
    "Labeler",
    "PairView",
    "Provenance",
    "PseudoConfig",
    "PseudoLabels",
    "Route",
    "Routed",
    "RoutingConfig",
    "RoutingReport",
    "RubricLabeler",
    "RubricLabelerConfig",
    "SimulatedAnnotator",
    "SimulatedLabeler",
    "TeacherConfig",
    "TraitConfig",
    "TrajectorySource",
    "TransferLabeler",
    "TransferLabelerConfig",
    "TruthColumn",
    "VLMBuild",
    "VLMLabeler",
    "VLMScorer",
    "accuracy_by",
    "ai_label_table",
    "ai_preference_rows",
    "cast_roster",
    "confidence_from_p",
    "is_ai_label",
    "label_accuracy",
    "label_batch",
    "label_kl",
    "model_predictions",
    "pair_view",
    "parse_roster",
    "prepare_vlm",
    "pseudo_label",
    "route_labels",
    "simulate_answer",
    "simulated_labelers",
    "teacher_label",
    "truth_from_frame",
    "truth_from_pool",
    "write_ai_preferences",
]

__getattr__ = lazy_getattr(__name__, _WHERE)

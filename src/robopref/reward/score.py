"""The scoring API: `RewardModel.score(trajectories)`, `prefer(a, b)` and pool-wide scoring.

`RewardModel` is a `robopref.scoring.EnsembleScorer[Trajectory]`: `score`, `prefer` and
`score_members`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple, overload

import numpy as np
import pandas as pd
import torch

from robopref.pool.pool import Pool
from robopref.pool.trajectory import Trajectory
from robopref.progress import ProgressCallback, no_progress
from robopref.reward.augment import first_view
from robopref.reward.compat import check_inputs, check_pool, check_trajectory
from robopref.reward.ensemble import EnsembleNet
from robopref.reward.features import (
    TrajectoryTable,
    build_table,
    model_input,
    model_steps,
    side_steps,
    stack_inputs,
)
from robopref.reward.frame_features import frame_times, raw_frames
from robopref.reward.language import TaskEmbedder
from robopref.reward.model import NetSpec
from robopref.scoring import bradley_terry, prefer_from_scores


class ModelInputs(NamedTuple):
    """What the network (and the ONNX graph) reads for N trajectories.

    Attributes:
        x: (N, n_steps, D) float32 state + action, (N, n_steps, H, W, 3) uint8 frames, or
            for a pretrained backbone (N, n_steps, C, H, W, 3) uint8 frames of C cameras at
            any size or their features (N, n_steps, C·F) float.
        task_embedding: (N, 384) float32 instruction embeddings, or None without language.
        steps: (N, n_steps, D) float32 state + action beside the frames of an image + state
            model, (N, n_steps, 1) elapsed seconds of a frames-only pretrained model, else None.
    """

    x: np.ndarray
    task_embedding: np.ndarray | None
    steps: np.ndarray | None = None


def table_inputs(table: TrajectoryTable, task_embedding: np.ndarray | None = None) -> ModelInputs:
    """A TrajectoryTable's tensors as (CPU) ModelInputs; `task_embedding` overrides the table's."""
    if task_embedding is None and table.task_embedding is not None:
        task_embedding = table.task_embedding.cpu().numpy()
    steps = None if table.steps is None else table.steps.cpu().numpy()
    x = table.x
    if x.ndim == 4 and x.is_floating_point():  # pretrained features: view 0, the frame itself
        x = first_view(x)
    return ModelInputs(x.cpu().numpy(), task_embedding, steps)


class RewardModel:
    """A trained reward model (an ensemble of one or more networks) ready to score.

    Args:
        net: The ensemble.
        spec: How its inputs are made.
        task_embeddings: Instruction → (384,) embedding for the training tasks; others are
            embedded on first use (needs the MiniLM package).
        record: The run record (config, data hashes, metrics, versions) from training.
        source: The checkpoint folder it was loaded from (errors name its config.json); None
            for a model made in memory.
    """

    def __init__(
        self,
        *,
        net: EnsembleNet,
        spec: NetSpec,
        task_embeddings: Mapping[str, np.ndarray],
        record: Mapping[str, Any],
        source: Path | None = None,
    ) -> None:
        self.net = net.cpu().eval()
        self.spec = spec
        self.task_embeddings = {k: np.asarray(v, np.float32) for k, v in task_embeddings.items()}
        self.record = dict(record)
        self.source = source
        self._embedder: TaskEmbedder | None = None

    @property
    def device(self) -> torch.device:
        """Where the networks run (CPU after training and loading)."""
        return next(self.net.parameters()).device

    def to(self, device: str | torch.device) -> RewardModel:
        """Move the networks to `device` (e.g. `cuda`) for scoring; returns self."""
        self.net.to(device)
        return self

    @property
    def n_members(self) -> int:
        """Number of ensemble members."""
        return len(self.net.members)

    def check_pool(self, pool: Pool) -> None:
        """Refuse, up front, a pool this model cannot score (`robopref.reward.compat`).

        Raises:
            InputError: Naming the model's config.json, the field, and what the pool has.
        """
        check_pool(self, pool)

    def inputs(self, trajectories: Sequence[Trajectory]) -> ModelInputs:
        """Model inputs of `trajectories` (subsampled steps or frames, instruction embeddings).

        Raises:
            InputError: A trajectory the model cannot read (its widths or camera).
        """
        enc = self.spec.encoder
        for traj in trajectories:
            check_trajectory(self, traj)
        if enc.pretrained:
            return self._pretrained_inputs(trajectories)
        x = stack_inputs([model_input(t, enc, self.spec.camera) for t in trajectories])
        side = [s for s in (side_steps(t, enc) for t in trajectories) if s is not None]
        steps = stack_inputs(side) if side else None
        emb = self.embed_tasks([t.task for t in trajectories]) if self.spec.language_dim else None
        return ModelInputs(x, emb, steps)

    def _pretrained_inputs(self, trajectories: Sequence[Trajectory]) -> ModelInputs:
        """Raw frames of the model's cameras (the frontend embeds them) and the `steps` input."""
        enc, n = self.spec.encoder, self.spec.encoder.n_steps
        x = stack_inputs([raw_frames(t, self.spec.cameras, n) for t in trajectories])
        steps = None
        if enc.times_frames:
            steps = stack_inputs([frame_times(t, n) for t in trajectories])
        elif enc.fuses_state:
            steps = stack_inputs([model_steps(t, enc) for t in trajectories])
        emb = self.embed_tasks([t.task for t in trajectories]) if self.spec.language_dim else None
        return ModelInputs(x, emb, steps)

    def embed_tasks(self, tasks: Sequence[str]) -> np.ndarray:
        """(N, 384) embeddings; instructions unseen in training are embedded and remembered."""
        unseen = sorted({t for t in tasks if t not in self.task_embeddings})
        if unseen:
            self._embedder = self._embedder or TaskEmbedder()
            self.task_embeddings.update(zip(unseen, self._embedder.embed(unseen), strict=True))
        return np.stack([self.task_embeddings[t] for t in tasks]).astype(np.float32)

    @torch.no_grad()
    def score_inputs(self, inputs: ModelInputs, *, batch_size: int = 256) -> np.ndarray:
        """(N, M) member rewards of prepared inputs, in float32.

        Raises:
            InputError: Inputs of shapes the network does not read.
        """
        check_inputs(self, inputs)
        out = []
        for start in range(0, len(inputs.x), batch_size):
            chunk = np.ascontiguousarray(inputs.x[start : start + batch_size])
            x = torch.from_numpy(chunk).to(self.device)
            emb = _chunk(inputs.task_embedding, start, batch_size, self.device)
            steps = _chunk(inputs.steps, start, batch_size, self.device)
            out.append(self.net(x, emb, steps)[1].float().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.n_members), np.float32)

    def score_members(self, trajectories: Iterable[Trajectory]) -> np.ndarray:
        """(N, M) rewards of each trajectory under each ensemble member."""
        return self.score_inputs(self.inputs(list(trajectories)))

    def score(self, trajectories: Iterable[Trajectory]) -> np.ndarray:
        """(N,) float32 rewards, one per trajectory: the ensemble mean."""
        members = self.score_members(trajectories)
        return np.asarray(members.mean(axis=1), np.float32)

    @overload
    def prefer(self, a: Trajectory, b: Trajectory) -> float: ...

    @overload
    def prefer(self, a: Sequence[Trajectory], b: Sequence[Trajectory]) -> np.ndarray: ...

    def prefer(
        self, a: Trajectory | Sequence[Trajectory], b: Trajectory | Sequence[Trajectory]
    ) -> float | np.ndarray:
        """P(a ≻ b) = σ(r(a) − r(b)) under the Bradley–Terry model, with r the ensemble mean.

        Two trajectories give a float; two equally long sequences give (N,) float64
        probabilities, pair by pair, from one scoring pass. Ties need no term of their own:
        the model has no tie parameter (a tie is P = 0.5 in training), so a tie is a
        probability near 0.5.
        """
        if isinstance(a, Trajectory) and isinstance(b, Trajectory):
            r_a, r_b = self.score([a, b])
            return float(bradley_terry(np.array([r_a]), np.array([r_b]))[0])
        if isinstance(a, Trajectory) or isinstance(b, Trajectory):
            raise TypeError("prefer takes two trajectories or two sequences of them")
        return prefer_from_scores(self, a, b)


def _chunk(
    array: np.ndarray | None, start: int, size: int, device: torch.device
) -> torch.Tensor | None:
    if array is None:
        return None
    return torch.from_numpy(np.ascontiguousarray(array[start : start + size])).to(device)


def score_pool(
    model: RewardModel,
    pool: Pool,
    ids: Sequence[str] | None = None,
    *,
    batch_size: int = 64,
    cache_dir: Path | None = None,
    progress: ProgressCallback = no_progress,
) -> pd.DataFrame:
    """Score trajectories of a pool (all by default).

    Image models read frames through the frame cache that training filled (`cache_dir`,
    default POOL/.cache/reward), so a pool is decoded once across training and scoring;
    pretrained-backbone models read features from the pool's embedding cache.

    Returns:
        One row per trajectory: `trajectory_id`, `reward` (ensemble mean) and `reward_std`
        (spread across members; 0 for a single model).

    Raises:
        InputError: A pool the model cannot score (checked once, before any batch).
    """
    model.check_pool(pool)
    ids = list(pool.manifest["trajectory_id"] if ids is None else ids)
    cache_root = cache_dir or pool.root / ".cache" / "reward"
    frontend = model.net.frontend
    members = []
    for start in range(0, len(ids), batch_size):
        chunk = ids[start : start + batch_size]
        table = build_table(
            pool,
            chunk,
            config=model.spec.encoder,
            camera=model.spec.camera,
            embedder=None,
            cache_root=cache_root if model.spec.encoder.uses_frames else None,
            backbone=None if frontend is None else frontend.backbone,
            cameras=model.spec.cameras,
        )
        emb = model.embed_tasks(table.tasks) if model.spec.language_dim else None
        members.append(model.score_inputs(table_inputs(table, emb)))
        progress(min(start + batch_size, len(ids)), len(ids))
    rewards = np.concatenate(members) if members else np.zeros((0, model.n_members), np.float32)
    return pd.DataFrame(
        {"trajectory_id": ids, "reward": rewards.mean(axis=1), "reward_std": rewards.std(axis=1)}
    )

"""A whole training run: preferences + pool → split → inputs → ensemble → metrics → checkpoint."""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import torch

from robopref.errors import InputError
from robopref.pool.pool import MANIFEST, Pool, open_pool
from robopref.progress import ProgressCallback, no_progress
from robopref.reward import distributed
from robopref.reward.checkpoint import library_versions, save_checkpoint
from robopref.reward.checkpoint_format import check_checkpoint_out
from robopref.reward.compat import input_dims
from robopref.reward.config import TrainConfig, config_to_json
from robopref.reward.data import (
    PairData,
    Splits,
    check_against_pool,
    file_sha256,
    make_splits,
    pair_data,
    read_preferences,
    validate_preferences,
)
from robopref.reward.distributed import World
from robopref.reward.ensemble import EnsembleNet, member_seed, member_view, spread
from robopref.reward.features import TrajectoryTable, build_table
from robopref.reward.finetune import member_frontend
from robopref.reward.frame_features import model_cameras
from robopref.reward.language import EMBED_DIM, TaskEmbedder
from robopref.reward.model import NetSpec, RewardNet, spec_for
from robopref.reward.pretrained import Frontend, backbone_for, backbone_record
from robopref.reward.score import RewardModel, table_inputs
from robopref.reward.train import (
    EpochCallback,
    EpochStats,
    Evaluation,
    MemberResult,
    ranking_accuracy,
    resolve_device,
    train_member,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class TrainResult:
    """What `train_reward_model` returns."""

    model: RewardModel
    """The trained ensemble, on the CPU."""
    splits: Splits
    """The held-out split (pair ids)."""
    metrics: dict[str, Any]
    """Pair counts, validation and test ranking accuracy (ensemble and per member)."""
    preferences: pd.DataFrame
    """The preferences used, one row per pair, in file order."""
    checkpoint: Path | None
    """Where the checkpoint was written, if `out` was given."""

    def pairs(self, part: str) -> pd.DataFrame:
        """The preference rows of `part` (`train`, `val` or `test`)."""
        return self.preferences.iloc[self.splits.indices(self.preferences)[part]]


def train_reward_model(
    preferences: Path | pd.DataFrame,
    pool: Pool | Path,
    config: TrainConfig | None = None,
    *,
    out: Path | None = None,
    progress: ProgressCallback = no_progress,
    load_progress: ProgressCallback = no_progress,
    on_epoch: EpochCallback | None = None,
) -> TrainResult:
    """Train a Bradley–Terry reward model (an ensemble) on preferences over a pool.

    Args:
        preferences: A preferences Parquet/JSONL file (PREFERENCES_SCHEMA) or its DataFrame.
        pool: The pool (or its folder) holding every trajectory the preferences name.
        config: Run settings; defaults to TrainConfig().
        out: Checkpoint folder to write: absent, empty or an earlier checkpoint (replaced);
            None writes nothing.
        progress: Called as (epochs done, members × epochs) across the ensemble.
        load_progress: Called as (trajectories read, total) while inputs are prepared.
        on_epoch: Called with loss and validation accuracy after every epoch.

    Raises:
        InputError: Malformed preferences or pool, ids missing from the pool, or an `out`
            that is not absent, empty or an earlier checkpoint.
    """
    config = config or TrainConfig()
    if out is not None:
        check_checkpoint_out(out)  # before any work: a refused folder costs nothing
    here, device = distributed.setup(config.device)  # under torchrun: this rank's share
    pool = pool if isinstance(pool, Pool) else open_pool(pool)
    prefs, source, prefs_hash = _preferences(preferences)
    check_against_pool(prefs, pool, source)
    splits = _split(prefs, config)
    _check_split(splits, source)
    ids = sorted(set(prefs["trajectory_a_id"]) | set(prefs["trajectory_b_id"]))
    table, spec, frontend = prepare_inputs(pool, ids, config, progress=load_progress, device=device)
    pairs = pair_data(prefs, table.row_of, config.loss)
    parts = {k: pairs.subset(v) for k, v in splits.indices(prefs).items()}
    members = _train_ensemble(
        spec, table, parts, config, progress, on_epoch, frontend=frontend, world=here, device=device
    )
    metrics = _metrics(members, table, parts, device=device)
    data = {
        "preferences": str(source),
        "preferences_sha256": prefs_hash,
        **_pool_record(pool),
        "n_pairs": len(prefs),
        "n_trajectories": len(ids),
        **input_dims(pool[ids[0]]),  # the state and action widths the model reads
    }
    record = _record(config, data=data, members=members, metrics=metrics)
    if frontend is not None:
        record["backbone"] = backbone_record(frontend.backbone)
        record["backbone"]["finetuned"] = spec.encoder.finetune
    shared = None if spec.encoder.finetune else frontend  # fine-tuned members own theirs
    model = _assemble(members, spec, table, record, shared)
    if out is not None and here.main:  # under torchrun, rank 0 alone writes
        save_checkpoint(model, out, splits=splits)
    elif out is not None:
        out = None
    logger.info(
        "reward model: test accuracy %.3f on %d pairs", metrics["test_accuracy"], metrics["n_test"]
    )
    return TrainResult(
        model=model, splits=splits, metrics=metrics, preferences=prefs, checkpoint=out
    )


def _split(prefs: pd.DataFrame, config: TrainConfig) -> Splits:
    """The run's held-out split (deterministic given the seed and the pair ids)."""
    return make_splits(
        prefs,
        kind=config.split,
        seed=config.seed,
        val_fraction=config.val_fraction,
        test_fraction=config.test_fraction,
    )


def _check_split(splits: Splits, source: Path) -> None:
    """Every part of the split must hold pairs.

    Raises:
        InputError: A part is empty (too few pairs or trajectories for this split kind).
    """
    for part in ("train", "val", "test"):
        if not getattr(splits, part):
            raise InputError(
                source, "pair_id", f"the {splits.kind.value} split left no {part} pairs"
            )


def _pool_record(pool: Pool) -> dict[str, str]:
    """The pool folder and the hash of its manifest."""
    return {"pool": str(pool.root), "manifest_sha256": file_sha256(pool.root / MANIFEST)}


def _record(
    config: TrainConfig,
    *,
    data: dict[str, Any],
    members: list[MemberResult],
    metrics: dict[str, Any],
) -> dict[str, Any]:
    """What a checkpoint records about its run (config.json beside the weights)."""
    return {
        "train_config": config_to_json(config.resolved()),  # the lr and shift it ran with
        "seed": config.seed,
        "data": data,
        "members": [
            {
                "seed": m.seed,
                "best_epoch": m.best_epoch,
                "epochs_run": m.epochs_run,
                "val_accuracy": m.val_accuracy,
            }
            for m in members
        ],
        "metrics": metrics,
        "versions": library_versions(),
    }


def _assemble(
    members: list[MemberResult],
    spec: NetSpec,
    table: TrajectoryTable,
    record: dict[str, Any],
    frontend: Frontend | None,
) -> RewardModel:
    """The RewardModel of trained members, with the training tasks' embeddings."""
    embeddings: dict[str, np.ndarray] = {}
    if table.task_embedding is not None:
        embeddings = dict(zip(table.tasks, table.task_embedding.cpu().numpy(), strict=True))
    net = EnsembleNet([m.net for m in members], frontend)
    return RewardModel(net=net, spec=spec, task_embeddings=embeddings, record=record)


def _preferences(preferences: Path | pd.DataFrame) -> tuple[pd.DataFrame, Path, str]:
    if isinstance(preferences, pd.DataFrame):
        source = Path("<preferences DataFrame>")
        frame = validate_preferences(preferences.reset_index(drop=True), source)
        buffer = io.BytesIO()
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer)
        return frame, source, hashlib.sha256(buffer.getvalue()).hexdigest()
    path = Path(preferences)
    return read_preferences(path), path, file_sha256(path)


def prepare_inputs(
    pool: Pool,
    ids: list[str],
    config: TrainConfig,
    *,
    progress: ProgressCallback = no_progress,
    device: torch.device | None = None,
) -> tuple[TrajectoryTable, NetSpec, Frontend | None]:
    """The input table of `ids` (on the training device), and the network spec of a run.

    The third item is, for a pretrained backbone, the frozen frontend the ensemble embeds raw
    frames with (None otherwise); when fine-tuning, the pretrained backbone each member
    starts from a copy of. A fine-tuning table's raw frames stay on the CPU (a batch at a
    time moves to `device`).
    """
    cache_root = config.cache_dir or pool.root / ".cache" / "reward"
    encoder = config.encoder
    camera = (encoder.camera or pool.primary_camera) if encoder.uses_frames else None
    embedder = TaskEmbedder(cache_root / "language") if encoder.language else None
    frontend: Frontend | None = None
    cameras: tuple[str, ...] = ()
    if encoder.pretrained:
        cameras = model_cameras(encoder, pool.primary_camera)
        camera = cameras[0]
        frontend = Frontend(backbone_for(encoder))
    table = build_table(
        pool,
        ids,
        config=encoder,
        camera=camera,
        embedder=embedder,
        cache_root=cache_root,
        progress=progress,
        backbone=None if frontend is None else frontend.backbone,
        cameras=cameras,
    )
    step_values = table.step_values
    spec = spec_for(
        encoder,
        step_dim=0 if step_values is None else int(step_values.shape[-1]),
        language_dim=EMBED_DIM if encoder.language else 0,
        camera=camera,
        cameras=cameras,
        feature_dim=0 if frontend is None else frontend.backbone.feature_dim,
    )
    device = device or resolve_device(config.device)
    moved = table.to(device)
    if encoder.finetune:
        moved = replace(moved, x=table.x)
    return moved, spec, frontend


def _normaliser(table: TrajectoryTable, train: PairData) -> Any:
    """Sets the per-step input statistics of the training trajectories on each new network."""
    values = table.step_values
    if values is None:  # an image-only model
        return lambda net: None
    rows = torch.unique(torch.cat([train.a, train.b]))
    steps = values[rows.to(values.device)].float().reshape(-1, values.shape[-1])
    mean, std = steps.mean(dim=0).cpu(), steps.std(dim=0).cpu()

    def init(net: RewardNet) -> None:
        net.set_normalisation(mean, std)

    return init


def _train_ensemble(
    spec: NetSpec,
    table: TrajectoryTable,
    parts: dict[str, PairData],
    config: TrainConfig,
    progress: ProgressCallback,
    on_epoch: EpochCallback | None,
    *,
    frontend: Frontend | None = None,
    world: World | None = None,
    device: torch.device | None = None,
) -> list[MemberResult]:
    total = config.ensemble_size * config.epochs
    init = _normaliser(table, parts["train"])
    members = []
    for m in range(config.ensemble_size):
        seed = member_seed(config.seed, m)
        train = parts["train"]
        if config.ensemble_size > 1:
            train = member_view(train, config.bootstrap, seed=seed)

        def report(epoch: int, loss: float, val: Evaluation, best: Evaluation, m: int = m) -> None:
            progress(m * config.epochs + epoch, total)
            if on_epoch is not None:
                on_epoch(
                    EpochStats(
                        member=m,
                        n_members=config.ensemble_size,
                        epoch=epoch,
                        epochs=config.epochs,
                        loss=loss,
                        val_accuracy=val.accuracy,
                        best_val_accuracy=best.accuracy,
                    )
                )

        members.append(
            train_member(
                spec,
                table,
                train=train,
                val=parts["val"],
                config=config,
                seed=seed,
                init=init,
                on_epoch=report,
                frontend=member_frontend(frontend)
                if spec.encoder.finetune and frontend is not None
                else None,
                world=world or World(),
                device=device,
            )
        )
        progress((m + 1) * config.epochs, total)
    return members


def _metrics(
    members: list[MemberResult],
    table: TrajectoryTable,
    parts: dict[str, PairData],
    *,
    device: torch.device | None = None,
) -> dict[str, Any]:
    model = RewardModel(
        net=EnsembleNet([m.net for m in members]),
        spec=members[0].net.spec,
        task_embeddings={},
        record={},
    )
    if model.spec.encoder.finetune and device is not None:
        model.to(device)  # each member's backbone runs on the training device
        rewards = model.score_inputs(table_inputs(table), batch_size=32)
        model.to("cpu")
    else:
        rewards = model.score_inputs(table_inputs(table))
    metrics: dict[str, Any] = {f"n_{k}": len(v.a) for k, v in parts.items()}
    for part in ("val", "test"):
        p = parts[part]
        pref = p.targets.preference.numpy()
        a, b = p.a.numpy(), p.b.numpy()
        metrics[f"{part}_accuracy"] = ranking_accuracy(rewards[a].mean(1), rewards[b].mean(1), pref)
        per_member = [
            ranking_accuracy(rewards[a, i], rewards[b, i], pref) for i in range(len(members))
        ]
        metrics[f"{part}_accuracy_members"] = spread(per_member) | {"values": per_member}
    metrics["n_ties"] = {
        k: int((np.abs(v.targets.preference.numpy() - 0.5) < 1e-6).sum()) for k, v in parts.items()
    }
    return metrics

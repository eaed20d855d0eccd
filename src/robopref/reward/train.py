"""The training loop of one reward network, read top to bottom: train_epoch, evaluate, repeat.

`train_member` fits one network with Adam and cosine annealing, keeping the weights of the
epoch with the best validation ranking accuracy (early stopping, seed 004). The whole run
(data, splits, ensemble, checkpoint) is `robopref.reward.run.train_reward_model`.
"""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from robopref.reward import distributed
from robopref.reward.augment import first_view, random_shift, random_views
from robopref.reward.config import TrainConfig
from robopref.reward.data import PairData
from robopref.reward.distributed import World
from robopref.reward.features import TrajectoryTable
from robopref.reward.finetune import shift_cameras, shift_offsets
from robopref.reward.losses import PairTargets, bradley_terry_loss
from robopref.reward.model import NetSpec, RewardNet, build_net
from robopref.reward.pretrained import Frontend

logger = logging.getLogger(__name__)

SINGLE = World()
"""One process, no process group: a plain run."""


@dataclass(frozen=True, kw_only=True)
class EpochStats:
    """What a run reports after each epoch (for progress bars and logs)."""

    member: int
    """Ensemble member, 0-based."""
    n_members: int
    """Ensemble size."""
    epoch: int
    """Epoch just finished, 1-based."""
    epochs: int
    """Maximum epochs."""
    loss: float
    """Mean training loss of the epoch."""
    val_accuracy: float
    """Validation ranking accuracy after the epoch."""
    best_val_accuracy: float
    """Best validation accuracy so far for this member."""


EpochCallback = Callable[[EpochStats], None]
"""Called after every epoch of every member."""


@dataclass(frozen=True, kw_only=True)
class Evaluation:
    """Ranking accuracy and loss of a network on a set of pairs."""

    accuracy: float
    """Fraction of decisive pairs (preference ≠ 0.5) ranked as labelled; NaN if none."""
    loss: float
    """Weighted Bradley–Terry loss."""


@dataclass(frozen=True, kw_only=True)
class MemberResult:
    """One trained ensemble member."""

    net: RewardNet
    """The network, with the weights of its best validation epoch, on the CPU, in eval mode."""
    seed: int
    """Its seed (initialisation, bootstrap, batch order, dropout)."""
    best_epoch: int
    """Epoch whose weights were kept."""
    epochs_run: int
    """Epochs run before early stopping or the limit."""
    val_accuracy: float
    """Validation accuracy at best_epoch."""


def resolve_device(name: str) -> torch.device:
    """`auto` → CUDA when available, else CPU; otherwise the named device."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def autocast(device: torch.device, amp: bool) -> AbstractContextManager[object]:
    """bfloat16 autocast on CUDA when `amp`; nothing on CPU."""
    if amp and device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return nullcontext()


def ranking_accuracy(r_a: np.ndarray, r_b: np.ndarray, preference: np.ndarray) -> float:
    """Fraction of decisive pairs whose higher reward is the preferred one; ties left out.

    >>> ranking_accuracy(np.array([1.0, 0.0, 2.0]), np.array([0.0, 1.0, 2.0]),
    ...                  np.array([1.0, 1.0, 0.5]))
    0.5
    """
    decisive = np.abs(preference - 0.5) > 1e-6
    if not decisive.any():
        return float("nan")
    correct = (r_a > r_b) == (preference > 0.5)
    return float(correct[decisive].mean())


def _rewards(
    net: nn.Module,
    spec: NetSpec,
    table: TrajectoryTable,
    rows: torch.Tensor,
    device: torch.device,
    augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> torch.Tensor:
    """Rewards of table rows `rows` (on `device`).

    `x` may live elsewhere: a fine-tuning run's raw frames stay on the CPU and move a batch at
    a time.
    """
    emb = None if table.task_embedding is None else table.task_embedding[rows]
    steps = None if table.steps is None else table.steps[rows]
    x = table.x[rows.to(table.x.device)].to(device, non_blocking=True)
    if augment is not None:
        x = augment(x)
    elif spec.encoder.reads_features:
        x = first_view(x)
    rewards: torch.Tensor = net(x, emb, steps)
    return rewards.float()


def _base(net: nn.Module) -> RewardNet:
    """The RewardNet inside a DistributedDataParallel wrapper (or the net itself)."""
    inner = net.module if isinstance(net, DistributedDataParallel) else net
    if not isinstance(inner, RewardNet):
        raise TypeError(f"expected a RewardNet, got {type(inner).__name__}")
    return inner


def _augmentation(
    spec: NetSpec, config: TrainConfig, generator: torch.Generator
) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """The per-batch augmentation of the frozen-feature and from-scratch image encoders."""
    if spec.encoder.reads_features:
        return lambda x: random_views(x, generator)
    if spec.encoder.uses_frames and not spec.encoder.pretrained and config.frame_shift > 0:
        pad = config.frame_shift
        return lambda x: random_shift(x, pad, generator)
    return None


def train_epoch(
    net: nn.Module,
    optimizer: torch.optim.Optimizer,
    table: TrajectoryTable,
    pairs: PairData,
    *,
    config: TrainConfig,
    generator: torch.Generator,
    world: World = SINGLE,
    device: torch.device | None = None,
    augment_generator: torch.Generator | None = None,
) -> float:
    """One pass over `pairs` in shuffled batches; returns the mean batch loss.

    Under DDP (`world.size` > 1, `net` wrapped) every rank shuffles alike (`generator`),
    embeds its share of each batch and backpropagates that share of the whole batch's loss
    (`robopref.reward.distributed`); the loss returned is the whole batch's on every rank.
    `augment_generator` (default `generator`) draws the views and shifts of the frozen and
    from-scratch encoders; a fine-tuning run draws its shifts for the whole batch from
    `generator`, so N ranks train exactly as one process would.
    """
    spec = _base(net).spec
    net.train()
    device = device or table.x.device
    order = torch.randperm(len(pairs.a), generator=generator)
    augment = _augmentation(spec, config, augment_generator or generator)
    pad = config.frame_shift if spec.encoder.finetune else 0
    cameras = max(len(spec.cameras), 1)
    losses = []
    for start in range(0, len(order), config.batch_size):
        batch = pairs.subset(order[start : start + config.batch_size])
        n = len(batch.a)
        mine = distributed.share(n, world)
        local = batch.subset(torch.arange(n)[mine]) if world.distributed else batch
        rows = torch.cat([local.a, local.b]).to(device)
        if pad > 0:
            offsets = shift_offsets(n, cameras, pad, generator)[mine]
            offsets = torch.cat([offsets[:, 0], offsets[:, 1]])
            augment = lambda x, o=offsets: shift_cameras(x, o, pad)  # noqa: E731
        with autocast(device, config.amp):
            rewards = _rewards(net, spec, table, rows, device, augment)
        r_a, r_b = rewards[: len(local.a)], rewards[len(local.a) :]
        targets = PairTargets(*(t.to(device) for t in batch.targets))
        if world.distributed:
            loss, objective = _share_of_loss(r_a, r_b, targets, n, world, config)
        else:
            loss = objective = bradley_terry_loss(r_a, r_b, targets, config.loss)
        optimizer.zero_grad(set_to_none=True)
        objective.backward()  # type: ignore[no-untyped-call]
        optimizer.step()
        losses.append(float(loss.detach()))
    return float(np.mean(losses))


def _share_of_loss(
    r_a: torch.Tensor,
    r_b: torch.Tensor,
    targets: PairTargets,
    n: int,
    world: World,
    config: TrainConfig,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(whole batch's loss, this rank's objective) under DDP.

    The rewards of every rank are gathered, the whole batch's loss L and its gradient with
    respect to each reward computed on every rank (it is cheap: B scalars); this rank's
    objective is world_size · Σ r·∂L/∂r over its own rewards, so that DDP's average of the
    ranks' gradients is exactly ∂L/∂θ — with the weighted mean and the centring term taken
    over the whole batch, as one process would.
    """
    all_a = distributed.gather_shares(r_a, n, world).requires_grad_(True)
    all_b = distributed.gather_shares(r_b, n, world).requires_grad_(True)
    with torch.enable_grad():
        loss = bradley_terry_loss(all_a, all_b, targets, config.loss)
        grad_a, grad_b = torch.autograd.grad(loss, [all_a, all_b])
    mine = distributed.share(n, world)
    objective = (r_a * grad_a[mine]).sum() + (r_b * grad_b[mine]).sum()
    return loss.detach(), objective * world.size


@torch.no_grad()
def evaluate(
    net: RewardNet,
    table: TrajectoryTable,
    pairs: PairData,
    *,
    config: TrainConfig,
    device: torch.device | None = None,
) -> Evaluation:
    """Ranking accuracy and loss of `net` on `pairs` (each trajectory scored once)."""
    net.eval()
    device = device or table.x.device
    rows = torch.unique(torch.cat([pairs.a, pairs.b]))
    rewards = torch.zeros(len(table.ids), device=device)
    chunk_size = max(config.batch_size, 1) if net.spec.encoder.finetune else 256
    for start in range(0, len(rows), chunk_size):
        chunk = rows[start : start + chunk_size].to(device)
        with autocast(device, config.amp):
            rewards[chunk] = _rewards(net, net.spec, table, chunk, device)
    r_a, r_b = rewards[pairs.a.to(device)], rewards[pairs.b.to(device)]
    targets = PairTargets(*(t.to(device) for t in pairs.targets))
    loss = float(bradley_terry_loss(r_a, r_b, targets, config.loss))
    pref = pairs.targets.preference.numpy()
    accuracy = ranking_accuracy(r_a.cpu().numpy(), r_b.cpu().numpy(), pref)
    return Evaluation(accuracy=accuracy, loss=loss)


def _is_better(new: Evaluation, best: Evaluation | None) -> bool:
    if best is None:
        return True
    if math.isnan(new.accuracy) or math.isnan(best.accuracy):  # no decisive val pairs
        return new.loss < best.loss
    if new.accuracy != best.accuracy:
        return new.accuracy > best.accuracy
    return new.loss < best.loss


def train_member(
    spec: NetSpec,
    table: TrajectoryTable,
    *,
    train: PairData,
    val: PairData,
    config: TrainConfig,
    seed: int,
    init: Callable[[RewardNet], None],
    on_epoch: Callable[[int, float, Evaluation, Evaluation], None],
    frontend: Frontend | None = None,
    world: World = SINGLE,
    device: torch.device | None = None,
) -> MemberResult:
    """Fit one network; keep the weights of the best validation epoch (early stopping).

    Args:
        spec: Network to build.
        table: Inputs of all trajectories, already on the training device (a fine-tuning
            run's raw frames may stay on the CPU).
        train: Training pairs (possibly a bootstrap resample).
        val: Validation pairs (selection only).
        config: Optimisation settings.
        seed: Seeds initialisation, dropout and batch order.
        init: Called on the fresh network (sets input normalisation).
        on_epoch: Called as (epoch, train loss, val evaluation, best val evaluation).
        frontend: A fine-tuned member's own trainable backbone (`robopref.reward.finetune`).
        world: The DDP world (`robopref.reward.distributed`); with more than one process the
            net is wrapped in DistributedDataParallel and each rank trains on its share of
            every batch. Every rank returns the same weights.
        device: The training device; None takes the table's.
    """
    device = device or table.x.device
    torch.manual_seed(seed)
    net = build_net(spec, seed=seed, frontend=frontend)
    init(net)
    net.to(device)
    model: nn.Module = net
    augment_generator = None
    if world.distributed:
        ids = [device.index] if device.type == "cuda" else None
        model = DistributedDataParallel(net, device_ids=ids)
        augment_generator = torch.Generator().manual_seed(seed * 1009 + world.rank)
    trainable = [p for p in net.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(
        trainable, lr=config.learning_rate, weight_decay=config.weight_decay
    )
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs)
    generator = torch.Generator().manual_seed(seed)
    best: Evaluation | None = None
    best_state, best_epoch, epoch = copy.deepcopy(net.state_dict()), 0, 0
    for epoch in range(1, config.epochs + 1):
        loss = train_epoch(
            model,
            optimizer,
            table,
            train,
            config=config,
            generator=generator,
            world=world,
            device=device,
            augment_generator=augment_generator,
        )
        scheduler.step()
        result = evaluate(net, table, val, config=config, device=device)
        accuracy, val_loss = distributed.agree([result.accuracy, result.loss], world, device)
        result = Evaluation(accuracy=accuracy, loss=val_loss)  # rank 0's: every rank agrees
        if _is_better(result, best):
            best, best_epoch, best_state = result, epoch, copy.deepcopy(net.state_dict())
        on_epoch(epoch, loss, result, best or result)
        if epoch - best_epoch >= config.patience:
            logger.info("member seed %d stopped early at epoch %d", seed, epoch)
            break
    net.load_state_dict(best_state)
    net.cpu().eval()
    accuracy = best.accuracy if best is not None else float("nan")
    return MemberResult(
        net=net, seed=seed, best_epoch=best_epoch, epochs_run=epoch, val_accuracy=accuracy
    )

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

from robopref.reward.augment import first_view, random_shift, random_views
from robopref.reward.config import TrainConfig
from robopref.reward.data import PairData
from robopref.reward.features import TrajectoryTable
from robopref.reward.losses import PairTargets, bradley_terry_loss
from robopref.reward.model import NetSpec, RewardNet, build_net

logger = logging.getLogger(__name__)


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
    net: RewardNet,
    table: TrajectoryTable,
    rows: torch.Tensor,
    augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> torch.Tensor:
    emb = None if table.task_embedding is None else table.task_embedding[rows]
    steps = None if table.steps is None else table.steps[rows]
    x = table.x[rows]
    if augment is not None:
        x = augment(x)
    elif net.spec.encoder.pretrained:
        x = first_view(x)
    rewards: torch.Tensor = net(x, emb, steps)
    return rewards.float()


def train_epoch(
    net: RewardNet,
    optimizer: torch.optim.Optimizer,
    table: TrajectoryTable,
    pairs: PairData,
    *,
    config: TrainConfig,
    generator: torch.Generator,
) -> float:
    """One pass over `pairs` in shuffled batches; returns the mean batch loss."""
    net.train()
    device = table.x.device
    order = torch.randperm(len(pairs.a), generator=generator)
    augment = None
    if net.spec.encoder.pretrained:
        augment = lambda x: random_views(x, generator)  # noqa: E731
    elif net.spec.encoder.uses_frames and config.shift_pixels > 0:
        pad = config.shift_pixels
        augment = lambda x: random_shift(x, pad, generator)  # noqa: E731
    losses = []
    for start in range(0, len(order), config.batch_size):
        batch = pairs.subset(order[start : start + config.batch_size])
        rows = torch.cat([batch.a, batch.b]).to(device)
        with autocast(device, config.amp):
            rewards = _rewards(net, table, rows, augment)
        r_a, r_b = rewards[: len(batch.a)], rewards[len(batch.a) :]
        targets = PairTargets(*(t.to(device) for t in batch.targets))
        loss = bradley_terry_loss(r_a, r_b, targets, config.loss)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        optimizer.step()
        losses.append(float(loss.detach()))
    return float(np.mean(losses))


@torch.no_grad()
def evaluate(
    net: RewardNet, table: TrajectoryTable, pairs: PairData, *, config: TrainConfig
) -> Evaluation:
    """Ranking accuracy and loss of `net` on `pairs` (each trajectory scored once)."""
    net.eval()
    device = table.x.device
    rows = torch.unique(torch.cat([pairs.a, pairs.b]))
    rewards = torch.zeros(len(table.ids), device=device)
    for start in range(0, len(rows), 256):
        chunk = rows[start : start + 256].to(device)
        with autocast(device, config.amp):
            rewards[chunk] = _rewards(net, table, chunk)
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
) -> MemberResult:
    """Fit one network; keep the weights of the best validation epoch (early stopping).

    Args:
        spec: Network to build.
        table: Inputs of all trajectories, already on the training device.
        train: Training pairs (possibly a bootstrap resample).
        val: Validation pairs (selection only).
        config: Optimisation settings.
        seed: Seeds initialisation, dropout and batch order.
        init: Called on the fresh network (sets input normalisation).
        on_epoch: Called as (epoch, train loss, val evaluation, best val evaluation).
    """
    torch.manual_seed(seed)
    net = build_net(spec, seed=seed)
    init(net)
    net.to(table.x.device)
    optimizer = torch.optim.Adam(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs)
    generator = torch.Generator().manual_seed(seed)
    best: Evaluation | None = None
    best_state, best_epoch, epoch = copy.deepcopy(net.state_dict()), 0, 0
    for epoch in range(1, config.epochs + 1):
        loss = train_epoch(net, optimizer, table, train, config=config, generator=generator)
        scheduler.step()
        result = evaluate(net, table, val, config=config)
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

"""Data-parallel training under `torchrun`: the world, each rank's share of a batch, one result.

`torchrun --nproc-per-node N -m robopref train …` starts N copies of the same command with
RANK, WORLD_SIZE and LOCAL_RANK in their environment. `world()` reads them; `setup` joins the
process group once (NCCL on CUDA, gloo on the CPU) and gives each rank its device (the GPU of
its LOCAL_RANK). Every rank builds the same table and shuffles pairs in the same order (one
seed), then embeds only its slice of every batch (`share`); gradients are exact because each
rank backpropagates its rewards' share of the *global* batch's loss (`global_loss`), and
DistributedDataParallel averages them. Validation is run by every rank and rank 0's figures
are broadcast (`agree`), so early stopping stops all ranks together. Only rank 0 writes.

A plain run (no torchrun) is world size 1: no process group, no DDP, the same code.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist

from robopref.errors import InputError


@dataclass(frozen=True)
class World:
    """This process's place among the training processes.

    Attributes:
        rank: Global rank, 0 for the process that writes results.
        size: Number of processes (1 without torchrun).
        local_rank: Rank on this machine (its GPU index).
    """

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def distributed(self) -> bool:
        """True under torchrun with more than one process."""
        return self.size > 1

    @property
    def main(self) -> bool:
        """True for rank 0, which reports and writes the checkpoint."""
        return self.rank == 0


def world() -> World:
    """The world torchrun's environment describes (RANK, WORLD_SIZE, LOCAL_RANK).

    Raises:
        InputError: A variable that is not a number, or a rank outside the world.
    """
    values = {}
    for name, default in (("RANK", 0), ("WORLD_SIZE", 1), ("LOCAL_RANK", None)):
        raw = os.environ.get(name)
        try:
            values[name] = default if raw is None or raw == "" else int(raw)
        except ValueError:
            raise InputError("environment", name, f"{raw!r} is not an integer") from None
    rank, size = int(values["RANK"] or 0), int(values["WORLD_SIZE"] or 1)
    local = values["LOCAL_RANK"]
    if size < 1 or not 0 <= rank < size:
        raise InputError("environment", "RANK", f"rank {rank} outside a world of {size}")
    return World(rank=rank, size=size, local_rank=rank if local is None else int(local))


def setup(device: str) -> tuple[World, torch.device]:
    """Join the process group (once, when torchrun started several processes) and pick a device.

    Args:
        device: `auto`, `cpu`, `cuda` or `cuda:N` (TrainConfig.device). Under torchrun `auto`
            and `cuda` mean this rank's GPU, `cuda:LOCAL_RANK`.

    Returns:
        The world and this rank's training device.
    """
    here = world()
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    chosen = torch.device(device)
    if chosen.type == "cuda" and here.distributed and chosen.index is None:
        chosen = torch.device("cuda", here.local_rank)
    if chosen.type == "cuda":
        torch.cuda.set_device(chosen)
    if here.distributed and not dist.is_initialized():
        backend = "nccl" if chosen.type == "cuda" else "gloo"
        kwargs = {"device_id": chosen} if chosen.type == "cuda" else {}
        dist.init_process_group(backend, timeout=timedelta(minutes=30), **kwargs)  # type: ignore[arg-type]
    return here, chosen


def bounds(n: int, size: int) -> list[int]:
    """Start of each rank's contiguous share of n items, plus n (shares differ by ≤ 1).

    >>> bounds(5, 2), bounds(1, 3)
    ([0, 3, 5], [0, 1, 1, 1])
    """
    base, extra = divmod(n, size)
    starts = [0]
    for r in range(size):
        starts.append(starts[-1] + base + (1 if r < extra else 0))
    return starts


def share(n: int, here: World) -> slice:
    """This rank's slice of a global batch of n items.

    >>> share(5, World(rank=1, size=2))
    slice(3, 5, None)
    """
    edges = bounds(n, here.size)
    return slice(edges[here.rank], edges[here.rank + 1])


def gather_shares(local: torch.Tensor, n: int, here: World) -> torch.Tensor:
    """Every rank's share of a (n, …) batch, concatenated in rank order (no gradient).

    Shares of uneven length are padded for the collective and cut back.
    """
    if not here.distributed:
        return local.detach()
    edges = bounds(n, here.size)
    longest = max(b - a for a, b in itertools.pairwise(edges))
    padded = local.detach().new_zeros((longest, *local.shape[1:]))
    padded[: len(local)] = local.detach()
    parts = [torch.empty_like(padded) for _ in range(here.size)]
    dist.all_gather(parts, padded.contiguous())
    spans = itertools.pairwise(edges)
    return torch.cat([p[: b - a] for p, (a, b) in zip(parts, spans, strict=True)])


def agree(values: Sequence[float], here: World, device: torch.device) -> list[float]:
    """Rank 0's `values` on every rank (so decisions taken from them agree)."""
    if not here.distributed:
        return list(values)
    tensor = torch.tensor(list(values), dtype=torch.float64, device=device)
    dist.broadcast(tensor, src=0)
    return [float(v) for v in tensor.cpu()]


def barrier(here: World) -> None:
    """Wait for every rank (nothing without a process group)."""
    if here.distributed and dist.is_initialized():
        dist.barrier()

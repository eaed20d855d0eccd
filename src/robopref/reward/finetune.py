"""Fine-tuning a pretrained backbone end to end: member frontends, raw-frame tables, shifts.

With `EncoderConfig.finetune` every ensemble member owns a trainable copy of the backbone
(`RewardNet.frontend`) and reads raw frames: the training table holds each trajectory's
`n_steps` sampled frames of its cameras at their stored size, (N, n_steps, C, H, W, 3) uint8,
and the augmentation is DrQ's random shift, one offset per trajectory and camera
(`TrainConfig.shift_pixels`, by default the encoder's `view_shift`). Seed 004's recipe: Adam
at 1e-4 with cosine annealing (`TrainConfig.learning_rate`). It needs a GPU for real pools
and runs across several under `torchrun` (`robopref.reward.distributed`).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F

from robopref.pool.pool import Pool
from robopref.progress import ProgressCallback, no_progress
from robopref.reward.config import EncoderConfig
from robopref.reward.features import TrajectoryTable, _table, model_steps, stack_inputs
from robopref.reward.frame_features import frame_times, raw_frames
from robopref.reward.language import TaskEmbedder
from robopref.reward.pretrained import Frontend

if TYPE_CHECKING:
    from robopref.vision import Backbone


def trainable_frontend(backbone: Backbone) -> Frontend:
    """A frontend whose backbone trains (`Backbone.unfreeze`)."""
    frontend = Frontend(backbone)
    backbone.unfreeze()
    return frontend


def member_frontend(template: Frontend) -> Frontend:
    """A member's own trainable copy of the run's (pretrained) backbone."""
    return trainable_frontend(copy.deepcopy(template.backbone))


def frames_table(
    pool: Pool,
    ids: Sequence[str],
    *,
    config: EncoderConfig,
    cameras: Sequence[str],
    embedder: TaskEmbedder | None,
    progress: ProgressCallback = no_progress,
) -> TrajectoryTable:
    """The table of a fine-tuning run: raw sampled frames (N, n_steps, C, H, W, 3) uint8.

    `steps` holds the frame times of a frames-only model (or the state input of an image +
    state one), as for a frozen backbone.

    Raises:
        InputError: A trajectory lacking a camera, or frames of different sizes.
    """
    if not cameras:
        raise ValueError("cameras: a fine-tuning table needs the cameras it reads")
    frames, steps = [], []
    for i, tid in enumerate(ids):
        traj = pool[tid]
        frames.append(raw_frames(traj, cameras, config.n_steps))
        if config.fuses_state:
            steps.append(model_steps(traj, config))
        elif config.times_frames:
            steps.append(frame_times(traj, config.n_steps))
        progress(i + 1, len(ids))
    x: np.ndarray = stack_inputs(frames)
    return _table(pool, ids, x, steps, embedder)


def shift_offsets(n: int, cameras: int, pad: int, generator: torch.Generator) -> torch.Tensor:
    """(n, 2, cameras, 2) random (dy, dx) in [0, 2·pad] for the A and B sides of n pairs.

    Drawn for a whole (global) batch, so that every DDP rank draws the same numbers and takes
    its share, and a run on one process draws what N processes draw together.
    """
    return torch.randint(0, 2 * pad + 1, (n, 2, cameras, 2), generator=generator)


def shift_cameras(frames: torch.Tensor, offsets: torch.Tensor, pad: int) -> torch.Tensor:
    """Shift each trajectory's frames of each camera by its offset (replicated border, DrQ).

    Args:
        frames: (B, T, C, H, W, 3) uint8.
        offsets: (B, C, 2) (dy, dx) in [0, 2·pad]; pad means no shift.
        pad: Largest shift in pixels; 0 returns `frames` unchanged.

    Returns:
        (B, T, C, H, W, 3) uint8, same device.

    >>> x = torch.arange(16, dtype=torch.uint8).reshape(1, 1, 1, 4, 4, 1).expand(1, 1, 1, 4, 4, 3)
    >>> y = shift_cameras(x, torch.tensor([[[1, 2]]]), 1)
    >>> y[0, 0, 0, 0, :, 0].tolist()
    [1, 2, 3, 3]
    >>> bool((shift_cameras(x, torch.ones(1, 1, 2, dtype=torch.long), 1) == x).all())
    True
    """
    if pad <= 0:
        return frames
    b, t, c, h, w, _ = frames.shape
    planes = frames.permute(0, 2, 1, 5, 3, 4).reshape(b * c, t * 3, h, w).float()
    padded = F.pad(planes, (pad, pad, pad, pad), mode="replicate")
    flat = offsets.reshape(b * c, 2).long().tolist()
    crops = [padded[i, :, dy : dy + h, dx : dx + w] for i, (dy, dx) in enumerate(flat)]
    shifted = torch.stack(crops).reshape(b, c, t, 3, h, w).permute(0, 2, 1, 4, 5, 3)
    return shifted.to(torch.uint8)

"""Training-time image augmentation: random shifts of whole trajectories (DrQ).

Kostrikov et al. 2021 ('Image Augmentation Is All You Need', DrQ) pad frames by a few pixels
(replicating the border) and crop back at a random offset; a reward model trained from a few
hundred labels on raw pixels otherwise memorises each trajectory's exact pixels. One offset per
trajectory, shared by all its frames, so motion between frames is untouched.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def random_shift(frames: torch.Tensor, pad: int, generator: torch.Generator) -> torch.Tensor:
    """Shift each trajectory's frames by up to ±`pad` pixels (replicated border).

    Args:
        frames: (B, T, H, W, 3) uint8 frames.
        pad: Largest shift in pixels; 0 returns `frames` unchanged.
        generator: Seeds the offsets (CPU generator).

    Returns:
        (B, T, H, W, 3) uint8, same shape and device.

    >>> x = torch.arange(16, dtype=torch.uint8).reshape(1, 1, 4, 4, 1).expand(1, 1, 4, 4, 3)
    >>> y = random_shift(x, 1, torch.Generator().manual_seed(0))
    >>> y.shape == x.shape and y.dtype == torch.uint8
    True
    """
    if pad <= 0:
        return frames
    b, t, h, w, c = frames.shape
    planes = frames.permute(0, 1, 4, 2, 3).reshape(b, t * c, h, w).float()
    padded = F.pad(planes, (pad, pad, pad, pad), mode="replicate")
    offsets = torch.randint(0, 2 * pad + 1, (b, 2), generator=generator)
    crops = [padded[i, :, dy : dy + h, dx : dx + w] for i, (dy, dx) in enumerate(offsets.tolist())]
    shifted = torch.stack(crops).reshape(b, t, c, h, w).permute(0, 1, 3, 4, 2)
    return shifted.to(torch.uint8)

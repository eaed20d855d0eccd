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


def random_views(features: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One of the cached views of every sampled frame, drawn independently per frame.

    The embedding cache holds `views` embeddings per frame (view 0 the frame itself, the others
    random shifts of it, `robopref.vision`); drawing one per frame at each step is the
    frozen-feature form of DrQ's random shift.

    Args:
        features: (B, T, V, F) features.
        generator: Seeds the draws (CPU generator).

    Returns:
        (B, T, F), same dtype and device.

    >>> x = torch.arange(12.0).reshape(1, 2, 3, 2)
    >>> y = random_views(x, torch.Generator().manual_seed(0))
    >>> y.shape, bool(all((y[0, t] == x[0, t]).all(-1).any() for t in range(2)))
    (torch.Size([1, 2, 2]), True)
    """
    b, t, v, f = features.shape
    pick = torch.randint(0, v, (b, t, 1, 1), generator=generator).to(features.device)
    return features.gather(2, pick.expand(b, t, 1, f)).squeeze(2)


def first_view(features: torch.Tensor) -> torch.Tensor:
    """View 0 (the unaugmented frame) of (B, T, V, F) features: (B, T, F)."""
    return features[:, :, 0]

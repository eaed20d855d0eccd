"""Feature statistics in LeRobot's `meta/stats.json` form (min/max/mean/std/count/quantiles)."""

from __future__ import annotations

from typing import Any

import numpy as np

QUANTILES = (0.01, 0.10, 0.50, 0.90, 0.99)
"""LeRobot v3 records q01, q10, q50, q90, q99 beside min/max/mean/std."""


QUANTILE_SAMPLE = 200_000
"""Quantiles come from every k-th frame so that at most about this many are kept."""


class VectorStats:
    """Per-dimension stats of a numeric feature, added episode by episode in bounded memory.

    min, max, mean and std are exact (float64 sums); quantiles use every k-th frame, with k
    chosen from the total frame count so that about QUANTILE_SAMPLE frames are kept.

    >>> stats = VectorStats(total_frames=2)
    >>> stats.add(np.array([[0.0], [2.0]]))
    >>> stats.result()["mean"], stats.result()["q50"]
    ([1.0], [1.0])
    """

    def __init__(self, total_frames: int) -> None:
        self._stride = max(1, total_frames // QUANTILE_SAMPLE)
        self._seen = 0
        self._sum: np.ndarray | None = None
        self._sq: np.ndarray | None = None
        self._min: np.ndarray | None = None
        self._max: np.ndarray | None = None
        self._sample: list[np.ndarray] = []

    def add(self, values: np.ndarray) -> None:
        """Count the (T, D) (or (T,)) values of one episode."""
        data = np.asarray(values, np.float64).reshape(len(values), -1)
        if self._sum is None or self._sq is None or self._min is None or self._max is None:
            self._sum, self._sq = data.sum(0), (data**2).sum(0)
            self._min, self._max = data.min(0), data.max(0)
        else:
            self._sum, self._sq = self._sum + data.sum(0), self._sq + (data**2).sum(0)
            self._min, self._max = (
                np.minimum(self._min, data.min(0)),
                np.maximum(self._max, data.max(0)),
            )
        offset = (-self._seen) % self._stride
        self._sample.append(data[offset :: self._stride])
        self._seen += len(data)

    def result(self) -> dict[str, list[Any]]:
        """The stats dict (lists per dimension; `count` is the number of frames)."""
        if self._sum is None or self._sq is None or self._min is None or self._max is None:
            raise ValueError("VectorStats.result called before any add")
        mean = self._sum / self._seen
        std = np.sqrt(np.maximum(self._sq / self._seen - mean**2, 0.0))
        stats: dict[str, list[Any]] = {
            "min": self._min.tolist(),
            "max": self._max.tolist(),
            "mean": mean.tolist(),
            "std": std.tolist(),
            "count": [self._seen],
        }
        sample = np.concatenate(self._sample)
        for q in QUANTILES:
            stats[f"q{round(q * 100):02d}"] = np.quantile(sample, q, axis=0).tolist()
        return stats


class ImageStats:
    """Per-channel stats of RGB frames scaled to [0, 1], as LeRobot stores them ((3, 1, 1) lists).

    Pixels are counted in a 256-bin histogram per channel, so mean, std and quantiles are exact
    for uint8 frames whatever the number of frames.
    """

    def __init__(self) -> None:
        self._hist = np.zeros((3, 256), np.int64)
        self._frames = 0

    def add(self, frames: np.ndarray) -> None:
        """Count (T, H, W, 3) uint8 frames."""
        for channel in range(3):
            self._hist[channel] += np.bincount(frames[..., channel].ravel(), minlength=256)
        self._frames += len(frames)

    def result(self) -> dict[str, Any]:
        """The stats dict; every value per channel as a (3, 1, 1) nested list."""
        levels = np.arange(256) / 255.0
        total = self._hist.sum(1)
        mean = (self._hist * levels).sum(1) / total
        std = np.sqrt((self._hist * (levels[None, :] - mean[:, None]) ** 2).sum(1) / total)
        cumulative = np.cumsum(self._hist, 1) / total[:, None]
        nonzero = self._hist > 0
        stats: dict[str, Any] = {
            "min": _per_channel(np.array([levels[row.argmax()] for row in nonzero])),
            "max": _per_channel(np.array([levels[255 - row[::-1].argmax()] for row in nonzero])),
            "mean": _per_channel(mean),
            "std": _per_channel(std),
            "count": [self._frames],
        }
        for q in QUANTILES:
            index = np.array([np.searchsorted(row, q) for row in cumulative]).clip(0, 255)
            stats[f"q{round(q * 100):02d}"] = _per_channel(levels[index])
        return stats


def _per_channel(values: np.ndarray) -> list[list[list[float]]]:
    return [[[float(v)]] for v in values]

"""Drawing distinct trajectory pairs from quartile cells, and spreading counts over cells."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Reject = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""`reject(ia, ib) -> bool mask` of candidate pairs (trajectory indices) to drop."""


@dataclass(frozen=True, kw_only=True)
class Cell:
    """All pairs between two quartiles of one group (a task, or the whole pool).

    Attributes:
        group: The task (or `"*"` for cross-task selection).
        quartiles: The two quartiles (equal for same-quartile cells).
        left: Trajectory indices (into the manifest) of the first quartile.
        right: Trajectory indices of the second quartile (== left for same-quartile cells).
    """

    group: str
    quartiles: tuple[int, int]
    left: np.ndarray
    right: np.ndarray

    @property
    def is_same(self) -> bool:
        """Whether both trajectories come from one quartile."""
        return self.quartiles[0] == self.quartiles[1]

    @property
    def capacity(self) -> int:
        """Number of distinct unordered pairs in the cell."""
        n = len(self.left)
        return n * (n - 1) // 2 if self.is_same else n * len(self.right)

    def decode(self, flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Trajectory indices of the pairs numbered `flat` (0 ≤ flat < capacity)."""
        if self.is_same:
            i, j = unrank_pairs(flat, len(self.left))
            return self.left[i], self.left[j]
        return self.left[flat // len(self.right)], self.right[flat % len(self.right)]

    def sample(
        self, k: int, *, rng: np.random.Generator, reject: Reject
    ) -> tuple[np.ndarray, np.ndarray]:
        """Up to `k` distinct pairs, uniformly at random, skipping rejected ones.

        Fewer than `k` come back only when the cell holds fewer acceptable pairs.
        """
        cap = self.capacity
        if k <= 0 or cap == 0:
            empty = np.zeros(0, np.int64)
            return empty, empty
        m = min(cap, 2 * k + 16)
        while True:
            flat = rng.choice(cap, size=m, replace=False)
            ia, ib = self.decode(flat)
            keep = ~reject(ia, ib)
            if keep.sum() >= k or m == cap:
                return ia[keep][:k], ib[keep][:k]
            m = min(cap, 4 * m)


def unrank_pairs(flat: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Map indices of the upper triangle (row-major, i < j) of an n×n matrix to (i, j).

    >>> i, j = unrank_pairs(np.arange(6), 4)
    >>> list(zip(i.tolist(), j.tolist()))
    [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]
    """
    k = np.asarray(flat, dtype=np.int64)
    total = n * (n - 1) // 2
    # Inverse of the row offset r(i) = total - (n-i)(n-i-1)/2; float guess, integer fix-up.
    i = n - 2 - np.floor((np.sqrt(np.maximum(4 * n * (n - 1) - 8 * k - 7, 0)) - 1) / 2)
    i = i.astype(np.int64)
    for _ in range(2):
        start = total - (n - i) * (n - i - 1) // 2
        i = np.where(k < start, i - 1, i)
        nxt = total - (n - i - 1) * (n - i - 2) // 2
        i = np.where(k >= nxt, i + 1, i)
    start = total - (n - i) * (n - i - 1) // 2
    return i, k - start + i + 1


def water_fill(weights: np.ndarray, caps: np.ndarray, total: int) -> np.ndarray:
    """Integer counts ∝ `weights`, each ≤ its cap, summing to `total` where caps allow.

    Largest-remainder rounding; what a capped cell cannot take goes to the others.

    >>> water_fill(np.array([1.0, 1.0, 2.0]), np.array([10, 1, 10]), 8).tolist()
    [2, 1, 5]
    """
    caps = np.asarray(caps, dtype=np.int64)
    counts = np.zeros(len(caps), dtype=np.int64)
    w = np.where(np.asarray(weights, dtype=float) > 0, weights, 0.0)
    remaining = total
    active = caps > 0
    while remaining > 0 and active.any():
        wa = np.where(active, w, 0.0)
        if wa.sum() <= 0:
            wa = active.astype(float)
        share = remaining * wa / wa.sum()
        alloc = np.floor(share).astype(np.int64)
        extra = remaining - int(alloc.sum())
        order = np.lexsort((np.arange(len(share)), -(share - alloc)))
        alloc[order[:extra]] += 1
        alloc = np.minimum(alloc, caps - counts)
        counts += alloc
        remaining -= int(alloc.sum())
        active &= counts < caps
    return counts

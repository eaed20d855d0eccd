"""`PairsConfig`: pair-selection settings (mix, overlap, duplicates, calibration, ranking)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class PairsConfig:
    """How batches, calibration sets and ranking sets are drawn from a pool (seed 004)."""

    batch_size: int = 300
    """Distinct pairs per batch (seed 004: 200–500); reversed duplicates come on top."""
    frac_adjacent: float = 0.4
    """Share of pairs whose quartiles differ by one (moderately hard)."""
    frac_same: float = 0.3
    """Share of pairs from the same quartile (hard)."""
    frac_distant: float = 0.3
    """Share of pairs whose quartiles differ by two or more (easy; these are the gold checks)."""
    annotators_per_pair: int = 3
    """Independent annotators per pair (≥ 2 so agreement can be measured)."""
    duplicate_frac: float = 0.075
    """Share of pairs repeated, A/B swapped, to one of their annotators (seed 004: 5–10%)."""
    cross_task: bool = False
    """Allow pairs whose trajectories have different instructions."""
    calibration_size: int = 40
    """Pairs per calibration set (seed 004: 30–50)."""
    calibration_sets: int = 2
    """Disjoint calibration sets; a failed annotator is retested on the next one."""
    ranking_set_size: int = 8
    """Trajectories per ranking set (5–10)."""
    seed: int = 0
    """Seed of every random choice; the same seed and pool give the same ids and pairs."""

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be ≥ 1, got {self.batch_size}")
        for name in ("frac_adjacent", "frac_same", "frac_distant"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        total = self.frac_adjacent + self.frac_same + self.frac_distant
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"frac_adjacent + frac_same + frac_distant must be 1, got {total:g}")
        if self.annotators_per_pair < 2:
            raise ValueError(f"annotators_per_pair must be ≥ 2, got {self.annotators_per_pair}")
        if not 0.0 <= self.duplicate_frac <= 0.5:
            raise ValueError(f"duplicate_frac must be in [0, 0.5], got {self.duplicate_frac}")
        if self.calibration_size < 1:
            raise ValueError(f"calibration_size must be ≥ 1, got {self.calibration_size}")
        if self.calibration_sets < 1:
            raise ValueError(f"calibration_sets must be ≥ 1, got {self.calibration_sets}")
        if not 2 <= self.ranking_set_size <= 20:
            raise ValueError(f"ranking_set_size must be in [2, 20], got {self.ranking_set_size}")

    def stratum_counts(self, n: int | None = None) -> tuple[int, int, int]:
        """Pairs per stratum (adjacent, same, distant) for `n` pairs (default batch_size).

        Rounded so the three add up to `n`; distant takes the remainder.

        >>> PairsConfig().stratum_counts(300)
        (120, 90, 90)
        """
        n = self.batch_size if n is None else n
        adjacent = round(self.frac_adjacent * n)
        same = min(n - adjacent, round(self.frac_same * n))
        return adjacent, same, n - adjacent - same

    def duplicate_count(self, n: int | None = None) -> int:
        """Reversed duplicates for `n` distinct pairs (default batch_size).

        >>> PairsConfig(duplicate_frac=0.075).duplicate_count(200)
        15
        """
        n = self.batch_size if n is None else n
        return round(self.duplicate_frac * n)


@dataclass(frozen=True, kw_only=True)
class ActiveConfig:
    """How an active batch is drawn where the current reward model is least sure (seed 004).

    Gold and reversed-duplicate shares, overlap, task grouping and the seed come from the
    `PairsConfig` given beside it, so QA sees an active batch as it sees a stratified one.
    """

    batch_size: int = 100
    """Distinct pairs per batch, gold included (seed 004: 50–100); duplicates come on top."""
    oversample: int = 10
    """Candidates scored per active pair (drawn at random from unlabelled same-task pairs)."""
    gap_window: float = 0.5
    """Pairs predicted within this many σ of each other (σ: the task's spread of predicted
    rewards) are ranked first (seed 004: 0.5 σ)."""
    disagreement_weight: float = 1.0
    """Weight of ensemble disagreement (variance of members' P(A ≻ B)) beside closeness."""
    diversity_penalty: float = 0.5
    """Taken off a candidate's score for each time its trajectories were already picked."""
    max_per_trajectory: int = 4
    """Most active pairs one trajectory may appear in (raised, with a warning, only when the
    candidates cannot fill the batch otherwise)."""
    gold_frac: float | None = None
    """Share of gold pairs; None keeps the stratified batches' share (`frac_distant`)."""

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be ≥ 1, got {self.batch_size}")
        if self.oversample < 1:
            raise ValueError(f"oversample must be ≥ 1, got {self.oversample}")
        if self.gap_window <= 0:
            raise ValueError(f"gap_window must be > 0, got {self.gap_window}")
        for name in ("disagreement_weight", "diversity_penalty"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be ≥ 0, got {getattr(self, name)}")
        if self.max_per_trajectory < 1:
            raise ValueError(f"max_per_trajectory must be ≥ 1, got {self.max_per_trajectory}")
        if self.gold_frac is not None and not 0.0 <= self.gold_frac < 1.0:
            raise ValueError(f"gold_frac must be in [0, 1), got {self.gold_frac}")

    def gold_count(self, pairs: PairsConfig) -> int:
        """Gold pairs in a batch: `gold_frac` (or the stratified share) of `batch_size`.

        >>> ActiveConfig(batch_size=100).gold_count(PairsConfig())
        30
        """
        frac = pairs.frac_distant if self.gold_frac is None else self.gold_frac
        return min(self.batch_size - 1, round(frac * self.batch_size))

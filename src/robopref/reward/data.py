"""Training data: the preferences file checked against the pool, the held-out splits, tensors."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import torch

from robopref.errors import InputError
from robopref.pool.pool import Pool
from robopref.reward.config import LossConfig, SplitKind
from robopref.reward.losses import PairTargets, confidence_margins, pair_weights
from robopref.schemas import PREFERENCES_TABLE, Column, Kind
from robopref.tables import check_table, read_table_file

REQUIRED_COLUMNS = PREFERENCES_TABLE.required
"""Columns a preferences file must have (the non-nullable ones of PREFERENCES_SCHEMA)."""
TRAIN_ONLY_SOURCES = ("pseudo", "ai:")
"""`label_source` values (or, ending in `:`, prefixes) trained on but never held out:
accuracy on a model's own pseudo-labels (robopref.teachers.pseudo) or on an AI labeler's
answers would measure nothing, and validation picks models (and source weights) on people."""
TRAINING_TABLE = replace(
    PREFERENCES_TABLE,
    columns=(
        *(
            replace(c, low=0) if c.name == "num_annotators" else c
            for c in PREFERENCES_TABLE.columns
        ),
        Column("weight", Kind.FLOAT, nullable=True, low=0.0),
        Column("label_source", Kind.ID, nullable=True),
    ),
)
"""What training reads: the preferences table, plus optional `weight` (a pair's loss weight,
used instead of the confidence/agreement weight where set) and `label_source`
(TRAIN_ONLY_SOURCES are never held out); `num_annotators` may be 0 for machine labels."""
MIN_PAIRS = 10
"""Fewest pairs that can be split three ways."""


def read_preferences(path: Path) -> pd.DataFrame:
    """Read and check a preferences Parquet (or .jsonl) file (`robopref.tables`' one reader).

    Raises:
        InputError: Unreadable file, a missing column, a value of the wrong type or out of
            range, a duplicate pair id, a self-comparison, or fewer than MIN_PAIRS pairs; the
            message names the file and the field.
    """
    frame = read_table_file(path, TRAINING_TABLE)
    return _enough_pairs(frame, path)


def validate_preferences(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Check a preferences table given in memory as `read_preferences` checks a file.

    Raises:
        InputError: As `read_preferences`; `path` names the table in errors.
    """
    return _enough_pairs(check_table(frame, TRAINING_TABLE, origin=path), path)


def _enough_pairs(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    if len(frame) < MIN_PAIRS:
        raise InputError(path, "pair_id", f"{len(frame)} pairs; need at least {MIN_PAIRS}")
    return frame


def check_against_pool(prefs: pd.DataFrame, pool: Pool, path: Path) -> None:
    """Every trajectory id in `prefs` must be in the pool.

    Raises:
        InputError: Naming the preferences file, the column and the first missing ids.
    """
    for column in ("trajectory_a_id", "trajectory_b_id"):
        missing = sorted({t for t in prefs[column] if t not in pool})
        if missing:
            raise InputError(
                path, column, f"{len(missing)} ids not in pool {pool.root}: {missing[:5]}"
            )


@dataclass(frozen=True, kw_only=True)
class Splits:
    """Pair ids held out for training, validation (early stopping) and test."""

    kind: SplitKind
    """How the split was made."""
    seed: int
    """Seed it was made with."""
    train: tuple[str, ...]
    """Pair ids used for fitting."""
    val: tuple[str, ...]
    """Pair ids used for early stopping (model selection)."""
    test: tuple[str, ...]
    """Pair ids never seen in training or selection."""

    def indices(self, prefs: pd.DataFrame) -> dict[str, np.ndarray]:
        """Row positions of each part in `prefs`."""
        row = {pid: i for i, pid in enumerate(prefs["pair_id"])}
        return {
            name: np.array([row[p] for p in getattr(self, name)], np.int64)
            for name in ("train", "val", "test")
        }

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "kind": self.kind.value,
            "seed": self.seed,
            "train": list(self.train),
            "val": list(self.val),
            "test": list(self.test),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Splits:
        """Rebuild from `to_json` output."""
        return cls(
            kind=SplitKind(data["kind"]),
            seed=int(data["seed"]),
            train=tuple(data["train"]),
            val=tuple(data["val"]),
            test=tuple(data["test"]),
        )


def make_splits(
    prefs: pd.DataFrame, *, kind: SplitKind, seed: int, val_fraction: float, test_fraction: float
) -> Splits:
    """Hold out validation and test pairs, deterministically given `seed` and the pair set.

    `pair`: pairs (sorted by id, then permuted) are cut into test, val and train.
    `trajectory`: trajectories are held out instead. A pair touching a test trajectory is a
    test pair; else one touching a validation trajectory is a validation pair; the rest
    train. So no test or validation trajectory appears in any training pair, and no test
    trajectory in a validation pair. Trajectory fractions are 1 − √(1 − f), which makes the
    expected pair fractions f for random pairs.

    Rows whose `label_source` is in TRAIN_ONLY_SOURCES (pseudo and AI labels) are split off first
    and only ever train: every pair split puts them in train, a trajectory split (drawn from
    the other rows) leaves out those touching a held-out trajectory. Without such rows the
    split is what it always was.
    """
    rng = np.random.default_rng(seed)
    train_only = is_train_only(prefs)
    extra, prefs = prefs[train_only], prefs[~train_only]
    if SplitKind(kind) is SplitKind.PAIR:
        ids = np.array(sorted(prefs["pair_id"]))[rng.permutation(len(prefs))]
        n_test = max(1, round(test_fraction * len(ids)))
        n_val = max(1, round(val_fraction * len(ids)))
        return Splits(
            kind=SplitKind.PAIR,
            seed=seed,
            test=tuple(ids[:n_test]),
            val=tuple(ids[n_test : n_test + n_val]),
            train=(*ids[n_test + n_val :], *sorted(extra["pair_id"])),
        )
    trajectories = np.array(sorted(set(prefs["trajectory_a_id"]) | set(prefs["trajectory_b_id"])))
    trajectories = trajectories[rng.permutation(len(trajectories))]
    n_test = max(1, round((1 - math.sqrt(1 - test_fraction)) * len(trajectories)))
    val_share = 1 - math.sqrt(1 - val_fraction / (1 - test_fraction))
    n_val = max(1, round(val_share * (len(trajectories) - n_test)))
    test_set, val_set = set(trajectories[:n_test]), set(trajectories[n_test : n_test + n_val])
    parts: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    for pid, a, b in sorted(
        zip(prefs["pair_id"], prefs["trajectory_a_id"], prefs["trajectory_b_id"], strict=True)
    ):
        part = "test" if {a, b} & test_set else "val" if {a, b} & val_set else "train"
        parts[part].append(pid)
    held_out = test_set | val_set  # a train-only pair touching them is left out altogether
    parts["train"] += sorted(
        pid
        for pid, a, b in zip(
            extra["pair_id"], extra["trajectory_a_id"], extra["trajectory_b_id"], strict=True
        )
        if not {a, b} & held_out
    )
    return Splits(kind=SplitKind.TRAJECTORY, seed=seed, **{k: tuple(v) for k, v in parts.items()})


def is_train_only(prefs: pd.DataFrame) -> np.ndarray:
    """(P,) bool: rows whose `label_source` is one of TRAIN_ONLY_SOURCES (or starts so).

    >>> is_train_only(pd.DataFrame({"label_source": ["pseudo", "ai:rubric", None, "human"]}))
    array([ True,  True, False, False])
    """
    if "label_source" not in prefs.columns:
        return np.zeros(len(prefs), bool)
    source = prefs["label_source"].fillna("").astype(str)
    exact = [s for s in TRAIN_ONLY_SOURCES if not s.endswith(":")]
    prefixes = tuple(s for s in TRAIN_ONLY_SOURCES if s.endswith(":"))
    return (source.isin(exact) | source.str.startswith(prefixes)).to_numpy(bool)


def row_weights(prefs: pd.DataFrame, loss: LossConfig) -> torch.Tensor:
    """(P,) loss weights: a row's `weight` where set, else `pair_weights` of its labels."""
    confidence = torch.tensor(prefs["confidence_mean"].to_numpy(np.float32))
    agreement = torch.tensor(prefs["agreement"].to_numpy(np.float32))
    weight = pair_weights(confidence, agreement, loss)
    if "weight" in prefs.columns:
        given = pd.to_numeric(prefs["weight"], errors="coerce").to_numpy(np.float32)
        weight = torch.where(torch.from_numpy(np.isnan(given)), weight, torch.from_numpy(given))
    return weight


class PairData(NamedTuple):
    """P pairs as tensors: row indices into a TrajectoryTable and the loss targets."""

    a: torch.Tensor
    """(P,) int64 rows of the A trajectories."""
    b: torch.Tensor
    """(P,) int64 rows of the B trajectories."""
    targets: PairTargets
    """Preferences, weights and margins, each (P,) float32."""

    def subset(self, index: torch.Tensor | np.ndarray) -> PairData:
        """The pairs at `index` (repeats allowed, as in a bootstrap)."""
        idx = torch.as_tensor(index, dtype=torch.int64)
        t = self.targets
        return PairData(
            self.a[idx], self.b[idx], PairTargets(t.preference[idx], t.weight[idx], t.margin[idx])
        )


def pair_data(prefs: pd.DataFrame, row_of: dict[str, int], loss: LossConfig) -> PairData:
    """Tensors of all pairs in `prefs` (row order kept); weights as `row_weights`."""
    confidence = torch.tensor(prefs["confidence_mean"].to_numpy(np.float32))
    return PairData(
        a=torch.tensor([row_of[t] for t in prefs["trajectory_a_id"]], dtype=torch.int64),
        b=torch.tensor([row_of[t] for t in prefs["trajectory_b_id"]], dtype=torch.int64),
        targets=PairTargets(
            preference=torch.tensor(prefs["preference"].to_numpy(np.float32)),
            weight=row_weights(prefs, loss),
            margin=confidence_margins(confidence, loss),
        ),
    )


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()

"""Scoring pool trajectories once per model: batched `Scorer` calls behind a small cache.

Active selection and pseudo-labelling score every candidate trajectory under every ensemble
member. `ScoreCache` keeps those rows by (model digest, trajectory id), in memory and, given
a folder, in one `<digest>.npz` there, so a second selection over the same pool and model
scores nothing.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from robopref.atomic import write_atomic
from robopref.errors import InputError
from robopref.pool.pool import Pool
from robopref.pool.trajectory import Trajectory
from robopref.scoring import EnsembleScorer, Scorer

logger = logging.getLogger(__name__)

_SAFE_DIGEST = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")


class ScoreCache:
    """Member scores of one model, by trajectory id; optionally persisted under `folder`.

    Args:
        digest: What identifies the model's weights (e.g. the checkpoint's SHA-256); a new
            model gets a new digest, so stale scores are never reused.
        folder: Where `<digest>.npz` is read and written; None keeps scores in memory only.

    Raises:
        InputError: A digest that cannot name a file.
    """

    def __init__(self, digest: str, folder: Path | None = None) -> None:
        if not _SAFE_DIGEST.match(digest):
            raise InputError("model", "digest", f"not usable as a cache key: {digest!r}")
        self.digest = digest
        self.path = None if folder is None else folder / f"{digest.replace(':', '_')}.npz"
        self.rows: dict[str, np.ndarray] = {}
        self.scored = 0
        """Trajectories this cache had to score (misses), over its lifetime."""
        self._load()

    def _load(self) -> None:
        if self.path is None or not self.path.is_file():
            return
        try:
            with np.load(self.path, allow_pickle=False) as data:
                ids, members = data["ids"], data["members"]
        except (OSError, ValueError, KeyError) as exc:  # a damaged cache is rebuilt, not fatal
            logger.warning("ignoring unreadable score cache %s: %s", self.path, exc)
            return
        if members.ndim == 2 and len(ids) == len(members):
            self.rows = {str(i): m for i, m in zip(ids.tolist(), members, strict=True)}

    def save(self) -> None:
        """Write the cache file (atomically), if this cache has a folder."""
        if self.path is None or not self.rows:
            return
        ids = np.array(list(self.rows), dtype=str)
        members = np.stack(list(self.rows.values())).astype(np.float32)
        write_atomic(self.path, lambda tmp: _savez(tmp, ids, members))

    def missing(self, ids: Sequence[str]) -> list[str]:
        """The ids of `ids` without cached scores, in order, once each."""
        return list(dict.fromkeys(i for i in ids if i not in self.rows))

    def get(self, ids: Sequence[str]) -> np.ndarray:
        """(N, M) cached member scores of `ids` (all must be cached)."""
        return np.stack([self.rows[i] for i in ids]) if ids else np.zeros((0, 1), np.float32)

    def put(self, ids: Sequence[str], members: np.ndarray) -> None:
        """Remember (N, M) member scores of `ids`."""
        for i, row in zip(ids, members, strict=True):
            self.rows[i] = np.asarray(row, np.float32)
        self.scored += len(ids)


def files_digest(paths: Sequence[Path]) -> str:
    """`sha256-<hex16>` of the files' names and bytes: a cache key for a model's weights.

    Raises:
        InputError: A file cannot be read.
    """
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\0")
        try:
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
        except OSError as exc:
            raise InputError(path, "model", f"unreadable: {exc.strerror or exc}") from exc
    return f"sha256-{digest.hexdigest()[:16]}"


def _savez(path: Path, ids: np.ndarray, members: np.ndarray) -> None:
    with open(path, "wb") as handle:
        np.savez(handle, ids=ids, members=members)


def member_scores(
    scorer: Scorer[Trajectory],
    pool: Pool,
    ids: Sequence[str],
    *,
    cache: ScoreCache | None = None,
    batch_size: int = 256,
) -> np.ndarray:
    """(N, M) each trajectory's reward under each member (M = 1 for a plain scorer).

    Trajectories are read from `pool` and scored `batch_size` at a time; cached ones are not
    read at all. The cache file is rewritten when anything new was scored.

    Raises:
        InputError: From the scorer (a trajectory it cannot read) or a non-finite score.
    """
    cache = cache or ScoreCache("memory")
    todo = cache.missing(ids)
    for start in range(0, len(todo), batch_size):
        chunk = todo[start : start + batch_size]
        cache.put(chunk, _score_chunk(scorer, [pool[i] for i in chunk]))
    if todo:
        cache.save()
        logger.info("scored %d trajectories (%d cached)", len(todo), len(ids) - len(todo))
    return cache.get(list(ids))


def _score_chunk(scorer: Scorer[Trajectory], trajectories: list[Trajectory]) -> np.ndarray:
    if isinstance(scorer, EnsembleScorer):
        members = np.asarray(scorer.score_members(trajectories), np.float64)
    else:
        members = np.asarray(scorer.score(trajectories), np.float64).reshape(-1, 1)
    if members.shape[0] != len(trajectories) or members.ndim != 2:
        raise InputError(
            "scorer", "score", f"returned shape {members.shape} for {len(trajectories)}"
        )
    if not np.isfinite(members).all():
        raise InputError("scorer", "score", "returned a non-finite reward")
    return members

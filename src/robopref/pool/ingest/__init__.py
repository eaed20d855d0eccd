"""Importers: LeRobot (v3.0, v2.1), robomimic HDF5 and NPZ episodes into a pool, all or nothing."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from robopref.errors import InputError
from robopref.pool.config import IngestConfig
from robopref.pool.ingest.base import (
    FORMAT_MODULES,
    REGISTRY,
    EpisodeError,
    Importer,
    importer_class,
    register,
)
from robopref.pool.pool import MANIFEST, check_pool_target, pool_transaction
from robopref.progress import ProgressCallback, no_progress

__all__ = [
    "FORMAT_MODULES",
    "REGISTRY",
    "EpisodeError",
    "Importer",
    "IngestReport",
    "importer_class",
    "ingest",
    "register",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class IngestReport:
    """What an import did."""

    imported: int
    """Trajectories added to the pool."""
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """(episode key in the source, reason) of each malformed episode skipped (`skip_bad`)."""


def ingest(
    fmt: str,
    source: Path,
    pool: Path,
    config: IngestConfig,
    *,
    progress: ProgressCallback = no_progress,
) -> IngestReport:
    """Import the episodes of `source` into the pool at `pool` (created if missing), atomically.

    Args:
        fmt: `lerobot`, `robomimic` or `npz` (a key of FORMAT_MODULES).
        source: Dataset folder or file.
        pool: Pool folder to create or append to.
        config: Labels, keys and error policy.
        progress: Called with (episodes done, episodes in all).

    Returns:
        How many were imported, and which were skipped and why.

    Raises:
        InputError: `pool` is a file or a folder that is not a pool, unknown format,
            unreadable dataset, two episodes whose ids collide once made safe, a malformed
            episode without `skip_bad`, nothing importable, or an id already in the pool.
            The pool is then exactly as before (and not created if it did not exist).
    """
    source, pool = Path(source), Path(pool)
    check_pool_target(pool)  # before the source is read: a wrong target costs nothing
    importer = importer_class(fmt)(source, config)
    try:
        keys = importer.episode_keys()[: config.max_episodes]
        if not keys:
            raise InputError(source, "episodes", "the source holds no episodes")
        for key in keys:  # ids that collide once made safe: refused before anything is written
            importer.trajectory_id(key)
        # a pool the import creates is removed again by its transaction if the import fails
        return _import(importer, keys, pool, config, progress)
    finally:
        importer.close()


def _import(
    importer: Importer,
    keys: list[str],
    pool: Path,
    config: IngestConfig,
    progress: ProgressCallback,
) -> IngestReport:
    skipped: list[tuple[str, str]] = []
    imported = 0
    pool_config = None if (pool / MANIFEST).exists() else config.pool
    with pool_transaction(pool, pool_config) as tx:
        for done, item in enumerate(importer.iter_episodes(keys), start=1):
            if isinstance(item, EpisodeError):
                if not config.skip_bad:
                    raise item.error
                logger.warning("skipping episode %s: %s", item.episode, item.error)
                skipped.append((item.episode, str(item.error)))
            else:
                tx.add(item)
                imported += 1
            progress(done, len(keys))
        if not imported:
            first = f"; first: {skipped[0][1]}" if skipped else ""
            raise InputError(
                importer.source,
                "episodes",
                f"none of {len(keys)} episodes could be imported{first}",
            )
    return IngestReport(imported=imported, skipped=skipped)

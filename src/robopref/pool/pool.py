"""The pool folder: open it, read trajectories, and change it atomically."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from robopref import __version__
from robopref.atomic import swap_in, write_text_atomic
from robopref.errors import InputError
from robopref.outputs import (
    check_output_dir,
    held_staging,
    mark_output_dir,
    missing_folders,
    output_kind,
    remove_empty_folders,
    remove_entry,
    remove_if_empty,
    remove_stale_staging,
)
from robopref.pool.config import PoolConfig
from robopref.pool.info import POOL_INFO, config_from_json, read_pool_info
from robopref.pool.layout import ARRAYS, META, read_trajectory_files, write_trajectory_files
from robopref.pool.manifest import (
    MANIFEST,
    manifest_row,
    manifest_table,
    read_manifest,
    write_manifest,
)
from robopref.pool.schema import MANIFEST_SCHEMA, SCHEMA_VERSION
from robopref.pool.tiers import score_manifest
from robopref.pool.trajectory import Trajectory
from robopref.safe_paths import path_inside

__all__ = [
    "MANIFEST",
    "POOL_INFO",
    "POOL_KIND",
    "STAGING",
    "TRAJECTORIES",
    "Pool",
    "PoolTransaction",
    "append_to_pool",
    "check_pool_target",
    "config_from_json",
    "is_pool_folder",
    "manifest_row",
    "open_pool",
    "pool_transaction",
    "set_manifest_column",
    "stage_trajectory",
    "write_manifest",
]

TRAJECTORIES = "trajectories"
STAGING = ".staging"
POOL_KIND = "pool"
"""The `robopref.outputs` kind of a pool folder."""


class Pool:
    """A pool folder opened for reading. Use `robopref.pool.open(path)`."""

    def __init__(
        self,
        root: Path,
        manifest: pd.DataFrame,
        info: Mapping[str, Any],
        config: PoolConfig | None = None,
    ) -> None:
        self.root = root
        self.manifest = manifest
        """One row per trajectory (`MANIFEST_SCHEMA` columns), indexed 0..n-1."""
        self.info = dict(info)
        """Contents of pool.json (schema_version, config, primary_camera, ...)."""
        self._config = (
            config
            if config is not None
            else config_from_json(self.info.get("config", {}), path=root / POOL_INFO)
        )
        self._row = {tid: i for i, tid in enumerate(manifest["trajectory_id"])}

    def __len__(self) -> int:
        return len(self.manifest)

    def __contains__(self, trajectory_id: object) -> bool:
        return trajectory_id in self._row

    def __getitem__(self, trajectory_id: str) -> Trajectory:
        """The trajectory, read from its files and checked against its manifest row.

        Raises:
            KeyError: No such trajectory in the manifest.
            InputError: Its files are missing or malformed, or disagree with the manifest.
        """
        if trajectory_id not in self._row:
            raise KeyError(f"{self.root}: no trajectory {trajectory_id!r}")
        directory = self.trajectory_dir(trajectory_id)
        traj = read_trajectory_files(directory)
        row = self.manifest.iloc[self._row[trajectory_id]]
        if traj.n_steps != row["n_steps"]:
            raise InputError(
                directory / ARRAYS,
                "n_steps",
                f"the arrays have {traj.n_steps} steps, the manifest says {row['n_steps']}",
            )
        if sorted(traj.cameras) != sorted(row["cameras"]):
            raise InputError(
                directory / META,
                "cameras",
                f"{sorted(traj.cameras)} differ from the manifest's {sorted(row['cameras'])}",
            )
        return traj

    def __iter__(self) -> Iterator[Trajectory]:
        for trajectory_id in self.manifest["trajectory_id"]:
            yield self[trajectory_id]

    def trajectory_dir(self, trajectory_id: str) -> Path:
        """Folder holding the arrays and camera videos of one trajectory (inside the pool).

        Raises:
            InputError: The id is not a safe name, or its folder is a link out of the pool.
        """
        return path_inside(self.root, TRAJECTORIES, trajectory_id)

    @property
    def config(self) -> PoolConfig:
        """The scoring config this pool was built with."""
        return self._config

    def subset(self, trajectory_ids: Iterable[str]) -> Pool:
        """A read-only view of this folder holding only `trajectory_ids` (manifest order kept).

        Raises:
            InputError: An id is not in the pool.
        """
        wanted = set(trajectory_ids)
        unknown = sorted(wanted - self._row.keys())
        if unknown:
            message = f"not in the pool: {unknown[:3]}"
            raise InputError(self.root / MANIFEST, "trajectory_id", message)
        keep = self.manifest["trajectory_id"].isin(wanted).to_numpy()
        return Pool(self.root, self.manifest[keep].reset_index(drop=True), self.info, self._config)

    @property
    def primary_camera(self) -> str | None:
        """Camera used for review clips (pool.json `primary_camera`, else the first one)."""
        camera = self.info.get("primary_camera")
        if camera:
            return str(camera)
        cameras = [c for row in self.manifest["cameras"] for c in row]
        return cameras[0] if cameras else None


def open_pool(path: str | Path) -> Pool:
    """Open a pool folder, checking its manifest and pool.json (one validation layer).

    Per-trajectory files are checked when a trajectory is read (`Pool[id]`).

    Raises:
        InputError: Not a pool folder, or a manifest / pool.json that breaks the contract
            (docs/pool.md, "What a pool must look like"), naming the file and the field.
    """
    root = Path(path)
    manifest_path = root / MANIFEST
    if not manifest_path.is_file():
        raise InputError(manifest_path, MANIFEST, "missing: not a pool folder")
    info = read_pool_info(root / POOL_INFO)
    manifest = read_manifest(manifest_path)
    camera = info.data.get("primary_camera")
    if camera and not manifest["cameras"].map(lambda names: camera in names).any():
        raise InputError(
            root / POOL_INFO, "primary_camera", f"{camera!r} is no trajectory's camera"
        )
    return Pool(root, manifest, info.data, info.config)


def is_pool_folder(folder: Path) -> bool:
    """True if `folder` holds a pool (a manifest and a pool.json), marked or not."""
    return (folder / MANIFEST).is_file() and (folder / POOL_INFO).is_file()


def stage_trajectory(traj: Trajectory, staging: Path, config: PoolConfig) -> dict[str, Any]:
    """Write `traj` under a staging folder and return its manifest row (safe in workers)."""
    directory = path_inside(staging, traj.trajectory_id)
    write_trajectory_files(traj, directory, frame_crf=config.frame_crf)
    return manifest_row(traj, config)


@contextmanager
def _locked(root: Path) -> Iterator[None]:
    """Hold the pool's lock: every change of its manifest, pool.json or marker is made so."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class PoolTransaction:
    """Adds trajectories to a pool so that a crash at any point leaves the old pool intact.

    Trajectory files go to the transaction's staging folder `POOL/.staging/<uuid>/` (held
    with `robopref.outputs.held_staging`, so a killed run's folder is cleared by the next
    one and a live one's is not); `commit` moves them into place and then replaces
    `manifest.parquet` with one atomic rename. Use `append_to_pool` or:

        with pool_transaction(path, config) as tx:
            tx.add(trajectory)
    """

    def __init__(self, root: Path, config: PoolConfig, staging: Path) -> None:
        self.root = root
        self.config = config
        self.staging = staging
        """Where trajectories are written before the commit (workers write here too)."""
        self._rows: list[dict[str, Any]] = []
        self._folders: list[tuple[Path, Path]] = []

    def add(self, traj: Trajectory) -> None:
        """Stage one trajectory."""
        self.add_rows([stage_trajectory(traj, self.staging, self.config)])

    def add_rows(self, rows: Iterable[dict[str, Any]]) -> None:
        """Record rows of trajectories a worker already wrote under `self.staging`."""
        for row in rows:
            if any(r["trajectory_id"] == row["trajectory_id"] for r in self._rows):
                raise InputError(
                    self.root, "trajectory_id", f"{row['trajectory_id']!r} added twice"
                )
            self._rows.append(row)

    def stage_folder(self, *parts: str) -> Path:
        """A staging folder (not yet created) that commit moves to `POOL/<parts>`.

        After the manifest swap, replacing an older folder there (e.g. BC checkpoints in
        `policies/bc-s0`); not moved if the body never created it.
        """
        target = path_inside(self.root, *parts)
        staged = self.staging / f".folder-{len(self._folders)}"
        self._folders.append((staged, target))
        return staged

    def commit(self) -> Pool:
        """Move staged trajectories in and swap the manifest; returns the new pool."""
        with _locked(self.root):
            remove_stale_staging(self.root, ".")  # temp files of killed writes (under this lock)
            old = open_pool(self.root) if (self.root / MANIFEST).exists() else None
            table = self._new_manifest(old)
            (self.root / TRAJECTORIES).mkdir(exist_ok=True)
            for row in self._rows:
                target = path_inside(self.root, TRAJECTORIES, row["trajectory_id"])
                if target.exists():  # left by a crash before an earlier manifest swap
                    shutil.rmtree(target)
                os.replace(self.staging / row["trajectory_id"], target)
            _write_info(self.root, self.config, None if old is None else old.info)
            write_manifest(self.root, table)
            self._install_folders()
            mark_output_dir(self.root, POOL_KIND)
            self.abort()
        return open_pool(self.root)

    def _new_manifest(self, old: Pool | None) -> pa.Table:
        """The old manifest plus the staged rows, rescored and checked."""
        if old is not None:
            clash = set(old.manifest["trajectory_id"]) & {r["trajectory_id"] for r in self._rows}
            if clash:
                raise InputError(
                    self.root / MANIFEST, "trajectory_id", f"already in pool: {sorted(clash)[:5]}"
                )
        new = pd.DataFrame(self._rows, columns=MANIFEST_SCHEMA.names)
        merged = pd.concat([old.manifest, new], ignore_index=True) if old and len(old) else new
        return manifest_table(score_manifest(merged, self.config), self.root / MANIFEST)

    def _install_folders(self) -> None:
        for staged, target in self._folders:
            if staged.exists():
                remove_stale_staging(target.parent, f".{target.name}.")  # a killed swap's
                swap_in(staged, target)

    def abort(self) -> None:
        """Drop everything staged."""
        shutil.rmtree(self.staging, ignore_errors=True)


def _write_info(root: Path, config: PoolConfig, old: Mapping[str, Any] | None) -> None:
    info: dict[str, Any] = (
        dict(old) if old is not None else {"created_at": datetime.now(UTC).isoformat()}
    )
    info.update(schema_version=SCHEMA_VERSION, robopref_version=__version__, config=asdict(config))
    write_text_atomic(root / POOL_INFO, json.dumps(info, indent=1))


def check_pool_target(root: Path, *, option: str = "POOL") -> None:
    """Refuse `root` as a pool to create or add to unless it is absent, empty or a pool.

    A pool is recognised by its marker (`robopref.outputs`, kind `pool`) or, for pools
    written before markers existed, by its manifest and pool.json.

    Raises:
        InputError: `root` is a file, a link, another verb's output or a folder of
            something else; nothing is created.
    """
    check_output_dir(root, POOL_KIND, option=option, recognise=is_pool_folder)


@contextmanager
def pool_transaction(
    path: str | Path, config: PoolConfig | None = None, *, option: str = "POOL"
) -> Iterator[PoolTransaction]:
    """A transaction on the pool at `path`: commit on success, else abort.

    The folder must be absent (it is created, and marked as a pool), empty, or a pool
    (`check_pool_target`); leftovers of killed transactions are cleared first. If the
    transaction fails, the pool is as it was; a folder it created (or found empty) is left
    as it found it.

    Args:
        path: The pool folder.
        config: Scoring config; default: the pool's own, or PoolConfig() for a new pool.
        option: The argument that named `path`, for error messages (`OUT`, `POOL`).
    """
    root = Path(path)
    check_pool_target(root, option=option)
    made = missing_folders(root)
    was_empty = not made and not any(root.iterdir())
    ok = False
    try:
        if made or was_empty:
            with _locked(root):  # a killed first run leaves a folder the next one accepts
                mark_output_dir(root, POOL_KIND)
        remove_stale_staging(root / STAGING)
        if config is None:
            config = open_pool(root).config if (root / MANIFEST).exists() else PoolConfig()
        with held_staging(root / STAGING / uuid.uuid4().hex) as staging:
            tx = PoolTransaction(root, config, staging)
            try:
                yield tx
                tx.commit()
            finally:
                tx.abort()
        ok = True
    finally:
        remove_if_empty(root / STAGING)
        if not ok:
            _undo_creation(root, made, was_empty)


def _undo_creation(root: Path, made: list[Path], was_empty: bool) -> None:
    """After a failed first transaction: remove what it created, so nothing is left."""
    if made:
        shutil.rmtree(root, ignore_errors=True)
        remove_empty_folders(made[1:])  # parents this run created
    elif was_empty and output_kind(root) == POOL_KIND and not (root / MANIFEST).exists():
        for entry in root.iterdir():
            remove_entry(entry)


def append_to_pool(
    path: str | Path, trajectories: Iterable[Trajectory], config: PoolConfig | None = None
) -> Pool:
    """Add trajectories to the pool at `path` atomically; returns the new pool.

    Raises:
        InputError: `path` is not a pool, an absent or an empty folder (`check_pool_target`),
            or an id is already in the pool; the pool is then unchanged.
    """
    with pool_transaction(path, config) as tx:
        for traj in trajectories:
            tx.add(traj)
    return open_pool(path)


def set_manifest_column(pool: Pool, column: str, values: Mapping[str, Any]) -> Pool:
    """Set `column` for the given trajectory ids (e.g. `clip_path` after rendering), atomically."""
    if column not in MANIFEST_SCHEMA.names:
        raise InputError(pool.root / MANIFEST, column, "not a manifest column")
    with _locked(pool.root):
        manifest = open_pool(pool.root).manifest
        unknown = set(values) - set(manifest["trajectory_id"])
        if unknown:
            raise InputError(
                pool.root / MANIFEST, "trajectory_id", f"unknown: {sorted(unknown)[:5]}"
            )
        mask = manifest["trajectory_id"].isin(list(values))
        manifest.loc[mask, column] = manifest.loc[mask, "trajectory_id"].map(values)
        write_manifest(pool.root, manifest_table(manifest, pool.root / MANIFEST))
    return open_pool(pool.root)

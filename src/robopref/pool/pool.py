"""The pool folder: open it, read trajectories, and change it atomically."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from robopref import __version__
from robopref.atomic import write_atomic, write_text_atomic
from robopref.errors import InputError
from robopref.pool.config import PoolConfig
from robopref.pool.layout import read_trajectory_files, write_trajectory_files
from robopref.pool.metrics import compute_metrics
from robopref.pool.schema import MANIFEST_SCHEMA, SCHEMA_VERSION
from robopref.pool.tiers import score_manifest
from robopref.pool.trajectory import Trajectory
from robopref.types import source_tier

MANIFEST = "manifest.parquet"
POOL_INFO = "pool.json"
TRAJECTORIES = "trajectories"
STAGING = ".staging"


class Pool:
    """A pool folder opened for reading. Use `robopref.pool.open(path)`."""

    def __init__(self, root: Path, manifest: pd.DataFrame, info: Mapping[str, Any]) -> None:
        self.root = root
        self.manifest = manifest
        """One row per trajectory (`MANIFEST_SCHEMA` columns), indexed 0..n-1."""
        self.info = dict(info)
        """Contents of pool.json (schema_version, config, primary_camera, ...)."""
        self._row = {tid: i for i, tid in enumerate(manifest["trajectory_id"])}

    def __len__(self) -> int:
        return len(self.manifest)

    def __contains__(self, trajectory_id: object) -> bool:
        return trajectory_id in self._row

    def __getitem__(self, trajectory_id: str) -> Trajectory:
        if trajectory_id not in self._row:
            raise KeyError(f"{self.root}: no trajectory {trajectory_id!r}")
        return read_trajectory_files(self.trajectory_dir(trajectory_id))

    def __iter__(self) -> Iterator[Trajectory]:
        for trajectory_id in self.manifest["trajectory_id"]:
            yield self[trajectory_id]

    def trajectory_dir(self, trajectory_id: str) -> Path:
        """Folder holding the arrays and camera videos of one trajectory."""
        return self.root / TRAJECTORIES / trajectory_id

    @property
    def config(self) -> PoolConfig:
        """The scoring config this pool was built with."""
        return config_from_json(self.info.get("config", {}))

    @property
    def primary_camera(self) -> str | None:
        """Camera used for review clips (pool.json `primary_camera`, else the first one)."""
        camera = self.info.get("primary_camera")
        if camera:
            return str(camera)
        cameras = [c for row in self.manifest["cameras"] for c in row]
        return cameras[0] if cameras else None


def open_pool(path: str | Path) -> Pool:
    """Open a pool folder.

    Raises:
        InputError: The folder has no manifest, or one that does not match the schema.
    """
    root = Path(path)
    manifest_path = root / MANIFEST
    if not manifest_path.is_file():
        raise InputError(manifest_path, "manifest.parquet", "missing: not a pool folder")
    info = _read_info(root)
    table = pq.read_table(manifest_path)
    missing = [f.name for f in MANIFEST_SCHEMA if f.name not in table.column_names]
    if missing:
        raise InputError(manifest_path, missing[0], f"column missing ({len(missing)} in all)")
    return Pool(root, table.select(MANIFEST_SCHEMA.names).to_pandas(), info)


def _read_info(root: Path) -> dict[str, Any]:
    path = root / POOL_INFO
    try:
        info: dict[str, Any] = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(path, "pool.json", f"unreadable: {exc}") from exc
    if info.get("schema_version") != SCHEMA_VERSION:
        raise InputError(
            path, "schema_version", f"{info.get('schema_version')!r} is not {SCHEMA_VERSION}"
        )
    return info


def config_from_json(data: Mapping[str, Any]) -> PoolConfig:
    """Rebuild a PoolConfig from its pool.json form."""
    from robopref.pool.config import MetricsConfig, RubricConfig

    return PoolConfig(
        metrics=MetricsConfig(**data.get("metrics", {})),
        rubric=RubricConfig(**data.get("rubric", {})),
        frame_crf=int(data.get("frame_crf", PoolConfig.frame_crf)),
    )


def manifest_row(traj: Trajectory, config: PoolConfig) -> dict[str, Any]:
    """The manifest row of one trajectory (metrics computed; rubric filled in on commit)."""
    meta = traj.metadata
    return {
        "trajectory_id": traj.trajectory_id,
        "task": traj.task,
        "env_id": traj.env_id,
        "source": traj.source,
        "tier": source_tier(traj.source),
        "source_dataset": _optional_str(meta.get("source_dataset")),
        "source_episode": _optional_str(meta.get("source_episode")),
        "seed": meta.get("seed"),
        "success_known": traj.success is not None,
        "n_steps": traj.n_steps,
        "fps": float(traj.fps),
        "duration_s": traj.duration_s,
        "horizon_s": meta.get("horizon_s"),
        **compute_metrics(traj, config.metrics).as_row(),
        "cameras": traj.cameras,
        "clip_path": None,
        "added_at": datetime.now(UTC),
    }


def _optional_str(value: object) -> str | None:
    return None if value is None else str(value)


def stage_trajectory(traj: Trajectory, staging: Path, config: PoolConfig) -> dict[str, Any]:
    """Write `traj` under a staging folder and return its manifest row (safe in workers)."""
    write_trajectory_files(traj, staging / traj.trajectory_id, frame_crf=config.frame_crf)
    return manifest_row(traj, config)


@contextmanager
def _locked(root: Path) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class PoolTransaction:
    """Adds trajectories to a pool so that a crash at any point leaves the old pool intact.

    Trajectory files go to `POOL/.staging/<uuid>/`; `commit` moves them into place and then
    replaces `manifest.parquet` with one atomic rename. Use `append_to_pool` or:

        with pool_transaction(path, config) as tx:
            tx.add(trajectory)
    """

    def __init__(self, root: Path, config: PoolConfig) -> None:
        self.root = root
        self.config = config
        self.staging = root / STAGING / uuid.uuid4().hex
        self.staging.mkdir(parents=True)
        self._rows: list[dict[str, Any]] = []

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

    def commit(self) -> Pool:
        """Move staged trajectories in and swap the manifest; returns the new pool."""
        with _locked(self.root):
            old = _existing_manifest(self.root)
            clash = set(old["trajectory_id"]) & {r["trajectory_id"] for r in self._rows}
            if clash:
                raise InputError(
                    self.root / MANIFEST, "trajectory_id", f"already in pool: {sorted(clash)[:5]}"
                )
            new = pd.DataFrame(self._rows, columns=MANIFEST_SCHEMA.names)
            merged = pd.concat([old, new], ignore_index=True) if len(old) else new
            scored = score_manifest(merged, self.config)
            table = pa.Table.from_pandas(scored, schema=MANIFEST_SCHEMA, preserve_index=False)
            (self.root / TRAJECTORIES).mkdir(exist_ok=True)
            for row in self._rows:
                target = self.root / TRAJECTORIES / row["trajectory_id"]
                if target.exists():  # left by a crash before an earlier manifest swap
                    shutil.rmtree(target)
                os.replace(self.staging / row["trajectory_id"], target)
            _write_info(self.root, self.config)
            write_manifest(self.root, table)
            self.abort()
        return open_pool(self.root)

    def abort(self) -> None:
        """Drop everything staged."""
        shutil.rmtree(self.staging, ignore_errors=True)


def _existing_manifest(root: Path) -> pd.DataFrame:
    if not (root / MANIFEST).exists():
        return pd.DataFrame(columns=MANIFEST_SCHEMA.names)
    return open_pool(root).manifest


def _write_info(root: Path, config: PoolConfig) -> None:
    from dataclasses import asdict

    path = root / POOL_INFO
    info = (
        json.loads(path.read_text())
        if path.exists()
        else {"created_at": datetime.now(UTC).isoformat()}
    )
    info.update(schema_version=SCHEMA_VERSION, robopref_version=__version__, config=asdict(config))
    write_text_atomic(path, json.dumps(info, indent=1))


def write_manifest(root: Path, table: pa.Table) -> None:
    """Atomically replace `root/manifest.parquet` with `table` (cast to MANIFEST_SCHEMA)."""

    def write(tmp: Path) -> None:
        pq.write_table(table.cast(MANIFEST_SCHEMA), tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())  # the manifest is the pool: on disk before the rename

    write_atomic(root / MANIFEST, write)


@contextmanager
def pool_transaction(
    path: str | Path, config: PoolConfig | None = None
) -> Iterator[PoolTransaction]:
    """A transaction on the pool at `path` (created if missing): commit on success, else abort."""
    root = Path(path)
    if config is None:
        config = open_pool(root).config if (root / MANIFEST).exists() else PoolConfig()
    tx = PoolTransaction(root, config)
    try:
        yield tx
        tx.commit()
    finally:
        tx.abort()


def append_to_pool(
    path: str | Path, trajectories: Iterable[Trajectory], config: PoolConfig | None = None
) -> Pool:
    """Add trajectories to the pool at `path` atomically; returns the new pool."""
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
        write_manifest(
            pool.root, pa.Table.from_pandas(manifest, schema=MANIFEST_SCHEMA, preserve_index=False)
        )
    return open_pool(pool.root)

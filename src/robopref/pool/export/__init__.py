"""Exporters: a pool as a LeRobotDataset v3.0 folder that LeRobot's own tools open."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from robopref.outputs import check_output_dir, output_folder
from robopref.pool.export.lerobot import (
    CameraWriter,
    DataWriter,
    ExportPlan,
    plan_export,
    write_meta,
)
from robopref.pool.pool import Pool
from robopref.pool.trajectory import Trajectory
from robopref.progress import ProgressCallback, no_progress

__all__ = ["ExportPlan", "export_lerobot", "plan_export"]


OUTPUT_KIND = "lerobot-export"
"""The `robopref.outputs` kind of an exported LeRobot dataset folder."""


def export_lerobot(
    pool: Pool, out: Path, *, repo_id: str, progress: ProgressCallback = no_progress
) -> int:
    """Write `pool` as a LeRobotDataset v3.0 folder at `out` (all or nothing).

    Args:
        pool: The pool to export (every trajectory, in manifest order).
        out: Folder to write: absent, empty, or an earlier export (replaced).
        repo_id: Dataset id written into the dataset card (`README.md`), e.g. `me/mw_pool`.
        progress: Called with (units done, units in all); a unit is one trajectory's data or
            one trajectory's camera.

    Returns:
        The number of episodes written.

    Raises:
        InputError: `out` is a file or a folder robopref did not export to, or the pool
            does not fit one LeRobot feature set (mixed fps, state sizes or frame sizes);
            nothing is left behind.
    """
    out = Path(out)
    check_output_dir(out, OUTPUT_KIND, option="OUT")
    plan = plan_export(pool)
    with output_folder(out, OUTPUT_KIND, option="OUT") as tmp:
        _write(pool, plan, tmp, progress)
        (tmp / "README.md").write_text(_card(repo_id, pool, plan))
    return len(plan.ids)


def _write(pool: Pool, plan: ExportPlan, root: Path, progress: ProgressCallback) -> None:
    data = DataWriter(root, plan)
    total = len(plan.ids) * (1 + len(plan.cameras))
    episodes = []
    for episode_index, trajectory_id in enumerate(plan.ids):
        traj = pool[trajectory_id]
        row = {"episode_index": episode_index, "tasks": [traj.task], "length": traj.n_steps}
        episodes.append({**row, **data.add(episode_index, traj), **_provenance(traj)})
        progress(episode_index + 1, total)
    data.flush()
    stats = {key: value.result() for key, value in data.stats.items()}
    done = len(plan.ids)
    for camera in plan.cameras:
        writer = CameraWriter(pool, plan, camera, progress, done)
        writer.write(root)
        stats[writer.key] = writer.stats.result()
        for episode, video in zip(episodes, writer.rows, strict=True):
            episode.update(video)
        done += len(plan.ids)
    for episode in episodes:
        episode.update({"meta/episodes/chunk_index": 0, "meta/episodes/file_index": 0})
    write_meta(root, plan=plan, episodes=episodes, stats=stats)


def _provenance(traj: Trajectory) -> dict[str, Any]:
    meta = traj.metadata
    return {
        "robopref/trajectory_id": traj.trajectory_id,
        "robopref/source": traj.source,
        "robopref/success": traj.success,
        "robopref/env_id": traj.env_id,
        "robopref/source_dataset": None
        if meta.get("source_dataset") is None
        else str(meta["source_dataset"]),
        "robopref/source_episode": None
        if meta.get("source_episode") is None
        else str(meta["source_episode"]),
    }


def _card(repo_id: str, pool: Pool, plan: ExportPlan) -> str:
    return (
        "---\nconfigs:\n- config_name: default\n  data_files: data/*/*.parquet\n"
        "tags:\n- LeRobot\n- robopref\n---\n\n"
        f"# {repo_id}\n\nExported by robopref from the pool `{pool.root.name}`: "
        f"{len(plan.ids)} episodes, {plan.total_frames} frames at {plan.fps} fps, "
        f"cameras: {', '.join(plan.cameras) or 'none'}.\n\n"
        f"Open with `LeRobotDataset({repo_id!r}, root=<this folder>)`. Episode rows keep the "
        "pool's `robopref/trajectory_id`, `robopref/source` and `robopref/success`.\n"
    )

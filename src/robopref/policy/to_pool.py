"""Rollouts back into the pool: a new `policy_checkpoint_N` tier, ready for the next pairs.

Each batch of a policy's rollouts becomes one new tier, numbered after the pool's highest
`policy_checkpoint_N` (the pool generator's BC checkpoints are 1..3), with the metrics and
rubric score every trajectory gets on the way in, and review clips when the rollouts
recorded frames. Seed 000's guard: a batch whose trajectories all fail their task makes no
informative pairs, so it is refused (`AllFailedError`) and the caller draws a new one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from robopref.errors import InputError
from robopref.pool.pool import Pool, append_to_pool, open_pool
from robopref.pool.trajectory import Trajectory
from robopref.progress import ProgressCallback, no_progress
from robopref.types import checkpoint_index, checkpoint_source


class AllFailedError(InputError):
    """Every trajectory of a rollout batch (or of one task in it) failed its task."""


def next_checkpoint_index(pool: Pool) -> int:
    """One more than the highest `policy_checkpoint_N` in the pool (1 for none)."""
    found = [n for s in pool.manifest["source"] if (n := checkpoint_index(str(s))) is not None]
    return max(found, default=0) + 1


def check_some_succeed(trajectories: Sequence[Trajectory], *, what: str = "rollouts") -> None:
    """Refuse a batch in which some task has no successful trajectory (seed 000).

    Raises:
        AllFailedError: Naming the task.
    """
    by_task: dict[str, bool] = {}
    for traj in trajectories:
        by_task[traj.env_id or traj.task] = by_task.get(traj.env_id or traj.task, False) or bool(
            traj.success
        )
    failed = sorted(task for task, ok in by_task.items() if not ok)
    if failed:
        raise AllFailedError(
            what,
            "success",
            f"every trajectory of {failed} failed: such a batch gives no informative pairs; "
            "draw a new one (more candidates, more noise, or a better policy)",
        )


def add_rollouts(
    pool_path: str | Path,
    trajectories: Sequence[Trajectory],
    *,
    index: int | None = None,
    require_success: bool = True,
    render: bool = True,
    progress: ProgressCallback = no_progress,
) -> tuple[Pool, str]:
    """Append rollouts to a pool as one new tier; returns the pool and the tier's source.

    Args:
        pool_path: An existing pool.
        trajectories: The rollouts (any source label: they are relabelled to the tier).
        index: Tier number N; default `next_checkpoint_index`.
        require_success: Apply seed 000's guard (`check_some_succeed`) first.
        render: Render review clips of the new trajectories when they have frames.
        progress: Called per rendered clip.

    Raises:
        InputError: `pool_path` is no pool, an id is already there, or (`AllFailedError`)
            every rollout of a task failed; the pool is then unchanged.
    """
    pool = open_pool(pool_path)
    if not trajectories:
        raise InputError("rollouts", "trajectories", "no rollouts to add")
    if require_success:
        check_some_succeed(trajectories)
    n = next_checkpoint_index(pool) if index is None else index
    source = checkpoint_source(n)
    if source in set(pool.manifest["source"]):
        raise InputError(pool.root / "manifest.parquet", "source", f"tier {source!r} exists")
    relabelled = [_relabel(t, source, n) for t in trajectories]
    pool = append_to_pool(pool_path, relabelled)
    if render and any(t.frames for t in relabelled):
        from robopref.render import RenderConfig, render_pool

        render_pool(pool_path, RenderConfig(), progress=progress)
        pool = open_pool(pool_path)
    return pool, source


def _relabel(traj: Trajectory, source: str, index: int) -> Trajectory:
    old = traj.source
    tid = traj.trajectory_id.replace(f"__{old}__", f"__{source}__", 1)
    metadata = {**traj.metadata, "rollout_of": old, "policy_checkpoint": index}
    return replace(traj, trajectory_id=tid, source=source, metadata=metadata)

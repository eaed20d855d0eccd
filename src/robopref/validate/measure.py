"""The measurements of one validation run, written into its (temporary) report folder."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from robopref.errors import InputError
from robopref.pool.layout import LazyFrames
from robopref.pool.pool import Pool
from robopref.progress import ProgressCallback
from robopref.validate.config import ValidateConfig
from robopref.validate.distribution import DistributionMetrics, evaluate_distribution
from robopref.validate.plots import plot_histograms, plot_reliability, plot_reward_vs_quality
from robopref.validate.probes import FrameLoader, run_probes
from robopref.validate.ranking import evaluate_ranking
from robopref.validate.result import ValidationReport
from robopref.validate.sheets import SheetEntry, extremes, write_contact_sheet
from robopref.video import iter_video_resized


def frame_loader(pool: Pool, camera: str | None, *, size: int) -> FrameLoader | None:
    """Loader of `camera`'s frames from the pool, decoded straight to `size`² pixels.

    Probes and contact sheets need small frames only; converting full-size frames to RGB
    cost most of a validation run. None when the pool has no frames.
    """
    if camera is None:
        return None

    def load(trajectory_id: str) -> np.ndarray | None:
        frames = pool[trajectory_id].frames
        if camera not in frames:
            return None
        if isinstance(frames, LazyFrames):
            resized = iter_video_resized(frames.path(camera), width=size, height=size,
                                         crop_hw=frames.frame_size(camera))  # fmt: skip
            return np.stack([frame for _, frame in resized])
        return np.asarray(frames[camera])

    return load


def camera_of(pool: Pool, config: ValidateConfig) -> str | None:
    """The camera to probe and draw: the configured one, else the pool's primary camera.

    Raises:
        InputError: The configured camera is not in the pool.
    """
    cameras = {c for row in pool.manifest["cameras"] for c in row}
    if config.camera is None:
        return pool.primary_camera if cameras else None
    if config.camera not in cameras:
        raise InputError(pool.root, "camera", f"{config.camera!r} not in {sorted(cameras)}")
    return config.camera


def measure(
    pool: Pool,
    rewards: dict[str, float],
    pairs: pd.DataFrame | None,
    folder: Path,
    *,
    config: ValidateConfig,
    progress: ProgressCallback,
) -> ValidationReport:
    """Every measurement of one run, given the rewards; files go into `folder`.

    Writes rewards.parquet, the plots and (with frames) the contact sheets; returns the
    report (report.json and report.html are written by the caller).
    """
    manifest = pool.manifest
    reward = np.array([rewards[t] for t in manifest["trajectory_id"]], dtype=np.float64)
    camera = camera_of(pool, config)
    frames = frame_loader(pool, camera, size=2 * config.sheet_thumb_px)
    notes = [] if frames else ["no camera frames: contact sheets and stillness probe skipped"]
    ids = manifest["trajectory_id"].astype(str).tolist()
    pq.write_table(pa.table({"trajectory_id": ids, "reward": reward}), folder / "rewards.parquet")
    files = {"rewards": "rewards.parquet"}
    ranking = None
    if pairs is None or not len(pairs):
        notes.append("no held-out test pairs given: ranking accuracy and calibration skipped")
    else:
        ranking = evaluate_ranking(rewards, pairs, manifest, tie_band=config.tie_band,
                                   calibration_bins=config.calibration_bins)  # fmt: skip
        files["reliability"] = "plots/reliability.png"
        plot_reliability(folder / files["reliability"], ranking.calibration)
    distribution = _distribution(reward, manifest, folder, files, config=config)
    probes = run_probes(
        reward, manifest, frames=frames, threshold=config.probe_threshold,
        margin=config.probe_margin, max_frame_trajectories=config.max_probe_trajectories,
        progress=progress,
    )  # fmt: skip
    top, bottom = extremes(reward, manifest, count=config.sheet_count)
    if frames is not None:
        files |= _sheets(folder, top, bottom, frames=frames, camera=camera, config=config,
                         progress=progress)  # fmt: skip
    return ValidationReport(
        n_trajectories=len(manifest), n_test_pairs=0 if pairs is None else len(pairs),
        camera=camera if frames else None, ranking=ranking, distribution=distribution,
        probes=probes, top=top, bottom=bottom, files=files, notes=notes + distribution.notes,
        config=asdict(config),
    )  # fmt: skip


def _distribution(
    reward: np.ndarray,
    manifest: pd.DataFrame,
    folder: Path,
    files: dict[str, str],
    *,
    config: ValidateConfig,
) -> DistributionMetrics:
    """Part 2's numbers and plots (plot paths are added to `files`)."""
    files["histograms"] = "plots/reward_by_tier.png"
    files["reward_vs_quality"] = "plots/reward_vs_quality.png"
    plot_histograms(folder / files["histograms"], reward, manifest, bins=config.histogram_bins)
    plot_reward_vs_quality(folder / files["reward_vs_quality"], reward, manifest)
    return evaluate_distribution(
        reward, manifest, bins=config.histogram_bins, min_auc=config.min_expert_random_auc
    )


def _sheets(
    folder: Path,
    top: list[SheetEntry],
    bottom: list[SheetEntry],
    *,
    frames: FrameLoader,
    camera: str | None,
    config: ValidateConfig,
    progress: ProgressCallback,
) -> dict[str, str]:
    """Write the two contact sheets; returns their file entries."""
    files = {}
    for name, entries in (("top", top), ("bottom", bottom)):
        title = f"{len(entries)} {'highest' if name == 'top' else 'lowest'} rewards ({camera})"
        files[f"sheet_{name}"] = f"sheets/{name}.png"
        write_contact_sheet(
            folder / files[f"sheet_{name}"], entries, frames=frames, title=title,
            n_frames=config.sheet_frames, thumb_px=config.sheet_thumb_px, progress=progress,
        )  # fmt: skip
    return files

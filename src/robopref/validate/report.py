"""The validation run: score the pool, run the three-part protocol, write report.html + .json.

Output folder (written under a temporary name, then swapped in):

- `report.json` — every number (`ValidationReport.to_json()`);
- `report.html` — the same, readable, with the plots and contact sheets embedded;
- `plots/` — `reward_by_tier.png`, `reliability.png` (with held-out pairs),
  `reward_vs_quality.png`;
- `sheets/` — `top.png`, `bottom.png` (pools with frames only);
- `rewards.parquet` — `trajectory_id`, `reward` for every pool trajectory;
- `config.json` — the resolved `ValidateConfig` and the robopref version.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from robopref import __version__
from robopref.errors import InputError
from robopref.pool.pool import Pool, open_pool
from robopref.progress import ProgressCallback, no_progress
from robopref.validate.config import ValidateConfig
from robopref.validate.distribution import DistributionMetrics, evaluate_distribution
from robopref.validate.html import render_html
from robopref.validate.inputs import RewardScorer, check_pairs, check_rewards, score_pool
from robopref.validate.plots import plot_histograms, plot_reliability, plot_reward_vs_quality
from robopref.validate.probes import FrameLoader, Probe, run_probes
from robopref.validate.ranking import RankingMetrics, evaluate_ranking
from robopref.validate.sheets import SheetEntry, extremes, write_contact_sheet

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
"""Version of report.json."""
REPORT_JSON = "report.json"
REPORT_HTML = "report.html"


@dataclass(frozen=True, kw_only=True)
class ValidationReport:
    """Everything a validation run measured (report.json is `to_json()`)."""

    n_trajectories: int
    """Trajectories scored (the whole pool)."""
    n_test_pairs: int
    """Held-out pairs evaluated (0 when none were given)."""
    camera: str | None
    """Camera of the contact sheets and the stillness probe; None for pools without frames."""
    ranking: RankingMetrics | None
    """Part 1: held-out ranking accuracy and calibration; None without held-out pairs."""
    distribution: DistributionMetrics
    """Part 2: reward distributions and correlations with the ground truth."""
    probes: list[Probe]
    """Part 3: reward-hacking probes."""
    top: list[SheetEntry]
    """The highest scored trajectories, highest first."""
    bottom: list[SheetEntry]
    """The lowest scored trajectories, lowest first."""
    files: dict[str, str] = field(default_factory=dict)
    """Name → path relative to the output folder (plots, sheets, rewards)."""
    notes: list[str] = field(default_factory=list)
    """What was skipped and why."""
    config: dict[str, Any] = field(default_factory=dict)
    """The ValidateConfig used."""

    @property
    def flagged(self) -> list[str]:
        """Names of the probes that flag possible reward hacking."""
        return [p.name for p in self.probes if p.flagged]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (NaN becomes null) with schema_version and robopref_version."""
        body = _finite(asdict(self))
        return {
            "schema_version": SCHEMA_VERSION,
            "robopref_version": __version__,
            "flagged_probes": self.flagged,
            **body,
        }

    def summary_line(self) -> str:
        """One line: accuracy, Spearman ρ vs quality_score, flags."""
        acc = self.ranking.overall.accuracy if self.ranking else None
        rho = self.distribution.correlations.get("quality_score")
        flags = ", ".join(self.flagged) or "none"
        return (
            f"validated {self.n_trajectories} trajectories, {self.n_test_pairs} test pairs: "
            f"accuracy {_fmt(acc)}, Spearman ρ vs quality {_fmt(rho.rho if rho else None)}, "
            f"hacking flags: {flags}"
        )


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, np.generic):
        return _finite(value.item())
    return value


def frame_loader(pool: Pool, camera: str | None) -> FrameLoader | None:
    """Loader of `camera`'s frames from the pool, or None when the pool has none."""
    if camera is None:
        return None

    def load(trajectory_id: str) -> np.ndarray | None:
        frames = pool[trajectory_id].frames
        return np.asarray(frames[camera]) if camera in frames else None

    return load


def _camera(pool: Pool, config: ValidateConfig) -> str | None:
    cameras = {c for row in pool.manifest["cameras"] for c in row}
    if config.camera is None:
        return pool.primary_camera if cameras else None
    if config.camera not in cameras:
        raise InputError(pool.root, "camera", f"{config.camera!r} not in {sorted(cameras)}")
    return config.camera


def validate(
    pool: Pool | str | Path,
    out_dir: str | Path,
    *,
    scorer: RewardScorer | None = None,
    rewards: Mapping[str, float] | None = None,
    test_pairs: pd.DataFrame | None = None,
    config: ValidateConfig | None = None,
    progress: ProgressCallback = no_progress,
) -> ValidationReport:
    """Validate a reward model on a pool and held-out pairs; write the report folder.

    Args:
        pool: The pool (or its folder); every trajectory is scored.
        out_dir: Report folder, created or replaced (it must be new, empty, or an earlier
            validation folder).
        scorer: A model with `score(trajectories)`, e.g. `robopref.reward.load(path)`.
        rewards: Precomputed trajectory id → reward instead of a scorer.
        test_pairs: Held-out preferences-schema rows; None skips part 1 with a note.
        config: Validation settings.
        progress: Called as trajectories are scored and frames decoded.

    Raises:
        InputError: Bad pairs or rewards, an unknown camera, or an out_dir in use.
    """
    config = config or ValidateConfig()
    pool = pool if isinstance(pool, Pool) else open_pool(pool)
    out = Path(out_dir)
    _check_out(out)
    if scorer is not None and rewards is not None:
        raise InputError(out, "rewards", "give a model (scorer) or rewards, not both")
    if scorer is not None:
        scored = score_pool(pool, scorer, batch_size=config.score_batch, progress=progress)
    elif rewards is not None:
        scored = check_rewards(rewards, pool, origin="rewards")
    else:
        raise InputError(out, "rewards", "give a model (scorer) or precomputed rewards")
    pairs = None if test_pairs is None else check_pairs(test_pairs, pool, origin="test pairs")
    tmp = out.with_name(f".{out.name}.{uuid.uuid4().hex}.tmp")
    (tmp / "plots").mkdir(parents=True)
    try:
        report = _measure(pool, scored, pairs, tmp, config=config, progress=progress)
        (tmp / REPORT_JSON).write_text(json.dumps(report.to_json(), indent=1, allow_nan=False))
        (tmp / REPORT_HTML).write_text(render_html(report, tmp))
        (tmp / "config.json").write_text(
            json.dumps({"robopref_version": __version__, "config": asdict(config)}, indent=1)
        )
        _swap_in(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    logger.info("%s", report.summary_line())
    return report


def _measure(
    pool: Pool,
    rewards: dict[str, float],
    pairs: pd.DataFrame | None,
    folder: Path,
    *,
    config: ValidateConfig,
    progress: ProgressCallback,
) -> ValidationReport:
    manifest = pool.manifest
    reward = np.array([rewards[t] for t in manifest["trajectory_id"]], dtype=np.float64)
    camera = _camera(pool, config)
    frames = frame_loader(pool, camera)
    notes = [] if frames else ["no camera frames: contact sheets and stillness probe skipped"]
    files = {"rewards": "rewards.parquet"}
    pq.write_table(
        pa.table(
            {"trajectory_id": manifest["trajectory_id"].astype(str).tolist(), "reward": reward}
        ),
        folder / files["rewards"],
    )
    ranking = None
    if pairs is None or not len(pairs):
        notes.append("no held-out test pairs given: ranking accuracy and calibration skipped")
    else:
        ranking = evaluate_ranking(
            rewards,
            pairs,
            manifest,
            tie_band=config.tie_band,
            calibration_bins=config.calibration_bins,
        )
        plot_reliability(folder / "plots" / "reliability.png", ranking.calibration)
        files["reliability"] = "plots/reliability.png"
    distribution = evaluate_distribution(
        reward, manifest, bins=config.histogram_bins, min_auc=config.min_expert_random_auc
    )
    plot_histograms(
        folder / "plots" / "reward_by_tier.png", reward, manifest, bins=config.histogram_bins
    )
    plot_reward_vs_quality(folder / "plots" / "reward_vs_quality.png", reward, manifest)
    files.update(
        histograms="plots/reward_by_tier.png", reward_vs_quality="plots/reward_vs_quality.png"
    )
    probes = run_probes(
        reward,
        manifest,
        frames=frames,
        threshold=config.probe_threshold,
        margin=config.probe_margin,
        max_frame_trajectories=config.max_probe_trajectories,
        progress=progress,
    )
    top, bottom = extremes(reward, manifest, count=config.sheet_count)
    if frames is not None:
        for name, entries in (("top", top), ("bottom", bottom)):
            title = f"{len(entries)} {'highest' if name == 'top' else 'lowest'} rewards ({camera})"
            write_contact_sheet(
                folder / "sheets" / f"{name}.png",
                entries,
                frames=frames,
                title=title,
                n_frames=config.sheet_frames,
                thumb_px=config.sheet_thumb_px,
                progress=progress,
            )
            files[f"sheet_{name}"] = f"sheets/{name}.png"
    return ValidationReport(
        n_trajectories=len(manifest),
        n_test_pairs=0 if pairs is None else len(pairs),
        camera=camera if frames else None,
        ranking=ranking,
        distribution=distribution,
        probes=probes,
        top=top,
        bottom=bottom,
        files=files,
        notes=notes + distribution.notes,
        config=asdict(config),
    )


def _check_out(out: Path) -> None:
    if out.exists() and (
        not out.is_dir() or (any(out.iterdir()) and not (out / REPORT_JSON).exists())
    ):
        raise InputError(out, "out", "exists and is not an empty or earlier validation folder")


def _swap_in(tmp: Path, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    if not out.exists():
        os.replace(tmp, out)
        return
    old = out.with_name(f".{out.name}.{uuid.uuid4().hex}.old")
    os.replace(out, old)
    os.replace(tmp, out)
    shutil.rmtree(old, ignore_errors=True)


def read_report(path: str | Path) -> dict[str, Any]:
    """Read a report.json (file or its folder), checking its schema_version.

    Raises:
        InputError: Missing, unreadable, or of another schema version.
    """
    file = Path(path)
    file = file / REPORT_JSON if file.is_dir() else file
    try:
        data = json.loads(file.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(file, REPORT_JSON, f"unreadable: {exc}") from exc
    if not isinstance(data, dict) or data.get("schema_version") != SCHEMA_VERSION:
        raise InputError(file, "schema_version", f"expected {SCHEMA_VERSION}")
    return data

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
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pandas as pd

from robopref import __version__
from robopref.errors import InputError
from robopref.json_files import read_json_object
from robopref.outputs import check_output_dir, output_folder
from robopref.pool.pool import Pool, open_pool
from robopref.pool.trajectory import Trajectory
from robopref.progress import ProgressCallback, no_progress
from robopref.scoring import Scorer
from robopref.validate.config import ValidateConfig
from robopref.validate.html import render_html
from robopref.validate.inputs import check_pairs, check_rewards, score_pool
from robopref.validate.measure import measure
from robopref.validate.result import SCHEMA_VERSION, ValidationReport

logger = logging.getLogger(__name__)

__all__ = ["REPORT_HTML", "REPORT_JSON", "ValidationReport", "read_report", "validate"]

REPORT_JSON = "report.json"
REPORT_HTML = "report.html"


def validate(
    pool: Pool | str | Path,
    out_dir: str | Path,
    *,
    scorer: Scorer[Trajectory] | None = None,
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
        scorer: A `robopref.scoring.Scorer`, e.g. `robopref.reward.load(path)`.
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
    check_validation_out(out)
    scored = _rewards(pool, out, scorer, rewards, config=config, progress=progress)
    pairs = None if test_pairs is None else check_pairs(test_pairs, pool, origin="test pairs")
    with output_folder(out, OUTPUT_KIND, recognise=_is_report_folder) as tmp:
        (tmp / "plots").mkdir()
        report = measure(pool, scored, pairs, tmp, config=config, progress=progress)
        (tmp / REPORT_JSON).write_text(json.dumps(report.to_json(), indent=1, allow_nan=False))
        (tmp / REPORT_HTML).write_text(render_html(report, tmp))
        record = {"robopref_version": __version__, "config": asdict(config)}
        (tmp / "config.json").write_text(json.dumps(record, indent=1))
    logger.info("%s", report.summary_line())
    return report


def _rewards(
    pool: Pool,
    out: Path,
    scorer: Scorer[Trajectory] | None,
    rewards: Mapping[str, float] | None,
    *,
    config: ValidateConfig,
    progress: ProgressCallback,
) -> dict[str, float]:
    if scorer is not None and rewards is not None:
        raise InputError(out, "rewards", "give a model (scorer) or rewards, not both")
    if scorer is not None:
        return score_pool(pool, scorer, batch_size=config.score_batch, progress=progress)
    if rewards is not None:
        return check_rewards(rewards, pool, origin="rewards")
    raise InputError(out, "rewards", "give a model (scorer) or precomputed rewards")


OUTPUT_KIND = "validation"
"""The `robopref.outputs` kind of a validation folder."""


def check_validation_out(out: Path) -> None:
    """Refuse `out` unless absent, empty, or an earlier validation folder (`robopref.outputs`)."""
    check_output_dir(out, OUTPUT_KIND, recognise=_is_report_folder)


def _is_report_folder(folder: Path) -> bool:
    """A validation folder written before output markers existed."""
    return (folder / REPORT_JSON).is_file()


def read_report(path: str | Path) -> dict[str, Any]:
    """Read a report.json (file or its folder), checking its schema_version.

    Raises:
        InputError: Missing, unreadable, or of another schema version.
    """
    file = Path(path)
    file = file / REPORT_JSON if file.is_dir() else file
    data = read_json_object(file, field=REPORT_JSON)
    if data.get("schema_version") != SCHEMA_VERSION:
        raise InputError(file, "schema_version", f"expected {SCHEMA_VERSION}")
    return data

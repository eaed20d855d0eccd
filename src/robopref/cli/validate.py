"""`robopref validate POOL --model DIR --pairs FILE`: the reward-model validation report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from robopref.cli.config_file import build_config
from robopref.cli.progress import progress_bar
from robopref.validate.config import ValidateConfig

_D = ValidateConfig()


def validate(
    pool: Annotated[Path, typer.Argument(help="Pool folder; every trajectory is scored.")],
    model: Annotated[Path | None, typer.Option(help="Reward-model checkpoint folder.")] = None,
    rewards: Annotated[
        Path | None, typer.Option(help="Precomputed rewards (trajectory_id, reward) instead.")
    ] = None,
    pairs: Annotated[
        Path | None, typer.Option(help="Preferences file; its test split (MODEL/split.json).")
    ] = None,
    test_pairs: Annotated[
        Path | None, typer.Option(help="Held-out pairs file (instead of --pairs).")
    ] = None,
    out: Annotated[Path, typer.Option(help="Report folder.")] = Path("validation"),
    camera: Annotated[str | None, typer.Option(help="Camera [the pool's primary].")] = None,
    probe_threshold: Annotated[
        float | None, typer.Option(help=f"|ρ| that flags a probe [{_D.probe_threshold:g}].")
    ] = None,
    sheet_count: Annotated[
        int | None, typer.Option(help=f"Trajectories per contact sheet [{_D.sheet_count}].")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="YAML with ValidateConfig fields.")
    ] = None,
) -> None:
    """Validate a reward model: held-out accuracy, ground truth, hacking probes, sheets.

    Writes report.json, report.html, plots/, sheets/, rewards.parquet and config.json.

    Example: robopref validate demo-output/pool --model demo-output/model
    --pairs demo-output/qa/preferences.parquet --out demo-output/validation
    """
    from robopref.validate import run_validation

    cfg = build_config(
        ValidateConfig, config, camera=camera, probe_threshold=probe_threshold,
        sheet_count=sheet_count,
    )  # fmt: skip
    with progress_bar("validating") as progress:
        report = run_validation(
            pool, out, model=model, rewards=rewards, preferences=pairs, test_pairs=test_pairs,
            config=cfg, progress=progress,
        )  # fmt: skip
    for note in report.notes:
        typer.echo(f"note: {note}")
    for probe in report.probes:
        if probe.flagged:
            typer.secho(f"flag: {probe.name}: {probe.note}", fg="yellow")
    typer.echo(f"{report.summary_line()} → {out / 'report.html'}")

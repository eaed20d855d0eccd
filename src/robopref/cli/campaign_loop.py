"""`robopref campaign simulate --strategy`: the label-efficiency loop, its curve and plot."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import typer

from robopref.campaign.loop_config import LoopConfig
from robopref.cli.config_file import build_config
from robopref.cli.progress import progress_bar


def run_loop_command(
    pool_path: Path,
    out: Path,
    *,
    config_file: Path | None,
    flags: Mapping[str, object],
) -> None:
    """Build the LoopConfig (YAML, then flags), run it into `out`, print the rounds."""
    import robopref.pool as rp
    from robopref.campaign.curves import learning_curves, plot_curves, scaling_exponent
    from robopref.campaign.loop import check_work_dir, run_label_loop

    config = build_config(LoopConfig, config_file, **dict(flags))
    check_work_dir(out, "--out")  # before the pool is read or the bar drawn
    pool = rp.open(pool_path)
    with progress_bar(f"campaign {config.strategy.value}") as progress:
        result = run_label_loop(pool, config, work_dir=out, progress=progress)
    rounds = result.rounds
    for row in rounds.to_dict("records"):
        extra = f", {row['ai_labels']} AI" if row["ai_labels"] else ""
        extra += f", {row['pseudo_labels']} pseudo" if row["pseudo_labels"] else ""
        typer.echo(f"round {row['round']}: {row['human_labels']} human labels{extra} → "
                   f"held-out accuracy {row['accuracy']:.3f}, ρ {row['rho']:.3f}")  # fmt: skip
    grid = sorted(set(rounds["human_labels"].astype(int)))
    curve = learning_curves(rounds, grid)
    curve.to_csv(out / "curve.csv", index=False)
    plot_curves(curve, out / "curve.png", title=f"{config.strategy.value}: {pool_path.name}")
    alpha = scaling_exponent(curve, config.strategy.value)
    typer.echo(f"curve → {out / 'curve.csv'}, {out / 'curve.png'} (α = {alpha:.3f})")

"""`robopref campaign simulate`: a whole preference campaign with simulated annotators."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from robopref.campaign.config import CampaignConfig
from robopref.campaign.loop_config import Strategy
from robopref.cli.campaign_run import run as run_command
from robopref.cli.config_file import build_config
from robopref.cli.progress import progress_bar
from robopref.errors import InputError
from robopref.store.defaults import DEFAULT_URL
from robopref.types import TruthColumn

campaign_app = typer.Typer(help="Run preference campaigns.", no_args_is_help=True)
_D = CampaignConfig()


@campaign_app.command()
def simulate(
    pool: Annotated[Path, typer.Argument(help="Pool folder.")],
    db: Annotated[str, typer.Option("--db", help="Store URL.")] = DEFAULT_URL,
    out: Annotated[Path, typer.Option(help="Folder for the QA report and preferences.")] = Path(
        "qa"
    ),
    annotators: Annotated[int | None, typer.Option(help=f"Annotators [{_D.annotators}].")] = None,
    calibration_roster: Annotated[
        str | None, typer.Option(help=f"First calibration [{_D.calibration_roster}].")
    ] = None,
    retest_roster: Annotated[str | None, typer.Option(help=f"Retest [{_D.retest_roster}].")] = None,
    production_roster: Annotated[
        str | None, typer.Option(help=f"Production [{_D.production_roster}].")
    ] = None,
    seed: Annotated[int | None, typer.Option(help=f"Seed of the answers [{_D.seed}].")] = None,
    truth: Annotated[
        TruthColumn | None,
        typer.Option(help=f"What the simulated annotators answer from [{_D.truth}]."),
    ] = None,
    strategy: Annotated[
        Strategy | None,
        typer.Option(help="Run the label-efficiency loop with this strategy instead."),
    ] = None,
    budget: Annotated[int | None, typer.Option(help="Loop: human labels to spend [1000].")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="YAML with fields.")] = None,
) -> None:
    """Run a simulated campaign: calibration, retest, production batch, QA, preferences.

    With --strategy (random, stratified, active, active+ai, active+ai+pseudo) it runs the
    label-efficiency loop instead: rounds of pair selection, simulated people (answering
    from --truth, default true_return), QA, training and a held-out score, until --budget
    human labels; --out gets rounds.csv, curve.csv and curve.png, and --config takes
    LoopConfig fields.

    Annotators are certified on the first calibration set (kappa ≥ 0.65); failures are
    retested on the second. Certified ones annotate a production batch, QA flags bad
    annotators and the rest are aggregated into preferences.parquet.

    With --truth true_return the annotators answer from the simulator's own return
    (Meta-World pools record it) instead of the rubric's quality_score.

    Example: robopref campaign simulate demo-output/pool --db sqlite:///campaign.db --out qa

    Example: robopref campaign simulate pool --strategy active --budget 600 --out loop-active
    """
    if strategy is not None:
        from robopref.cli.campaign_loop import run_loop_command

        flags = {"strategy": strategy.value, "budget": budget, "seed": seed,
                 "truth": None if truth is None else truth.value}  # fmt: skip
        run_loop_command(pool, out, config_file=config, flags=flags)
        return
    if budget is not None:
        raise InputError("command line", "--budget", "only with --strategy")
    import robopref.pool as rp
    from robopref.campaign import run_simulated_campaign
    from robopref.campaign.simulated import check_rosters
    from robopref.quality.qa import check_qa_out
    from robopref.store import open_store

    cfg = build_config(
        CampaignConfig, config, annotators=annotators, calibration_roster=calibration_roster,
        retest_roster=retest_roster, production_roster=production_roster, seed=seed,
        truth=None if truth is None else truth.value,
    )  # fmt: skip
    check_qa_out(out)  # before the store is created
    try:
        check_rosters(cfg)
    except InputError as exc:  # name the file (or the command line) the roster came from
        raise InputError(config or "command line", exc.field, f"{exc.path}: {exc.message}") from exc
    manifest = rp.open(pool).manifest
    store = open_store(db)
    try:
        with progress_bar("campaign") as progress:
            result = run_simulated_campaign(store, manifest, cfg, out_dir=out, progress=progress)
    finally:
        store.dispose()
    cert = result.certification
    for row in result.history.to_dict("records"):
        verdict = "passed" if row["passed"] else "failed"
        typer.echo(f"{row['annotator_id']}: kappa {row['kappa']:.2f} on "
                   f"{row['calibration_batch_id']} → {verdict}")  # fmt: skip
    s = result.qa.report.summary
    typer.echo(
        f"campaign: {len(cert)} annotators, retested {sorted(result.retested)}, "
        f"flagged {s['flagged']}, alpha {s['alpha']:.3f}, {s['preferences']} preferences → "
        f"{result.qa.preference_files.parquet}"
    )


campaign_app.command("run")(run_command)

"""`robopref demo`: the whole pipeline on embedded defaults."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from robopref.cli.pool import show
from robopref.cli.progress import progress_bar

if TYPE_CHECKING:
    from robopref.demo import DemoAccounts


def demo(
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("demo-output"),
    small: Annotated[bool, typer.Option("--small", help="Toy size (for tests).")] = False,
) -> None:
    """Run pool → clips → campaign → reward model → validation → release; print where.

    Example: robopref demo --out demo-output
    """
    from robopref.demo import DemoConfig, invite_demo_accounts, run_demo

    config = DemoConfig.toy() if small else DemoConfig()
    with progress_bar("demo stages") as progress:
        result = run_demo(config, out, progress=progress)
    show(result.pool)
    for key, value in result.summary.items():
        typer.echo(f"  {key}: {value:.3f}" if isinstance(value, float) else f"  {key}: {value}")
    typer.echo(
        f"demo outputs in {out}: pool {result.pool} (clips in {result.pool / 'clips'}), "
        f"store {result.store_url}, qa {result.qa}, model {result.model}, "
        f"validation {result.validation}, release {result.release}"
    )
    summary = result.summary
    typer.echo(
        f"the loop closes: best-of-{config.policy_candidates} with the demo's reward on "
        f"{summary['policy_task']}: {summary['policy_success_bc']:.0%} (BC alone) → "
        f"{summary['policy_success_best_of_n']:.0%} ({out / 'policy' / 'best_of_n.json'}); "
        f"more in docs/policy.md (robopref policy finetune, robopref campaign run)"
    )
    _print_browser_access(result.store_url, result.pool, invite_demo_accounts(result.store_url))


def _print_browser_access(store_url: str, pool: Path, accounts: DemoAccounts) -> None:
    """How to open the demo's campaign in a browser: the serve command and two tokens."""
    from robopref.demo import DEMO_ADMIN, DEMO_ANNOTATOR

    typer.echo("open the campaign in a browser:")
    typer.echo(f"  ROBOPREF_SECRET=$(openssl rand -hex 32) {_robopref_command()} serve "
               f"--db {store_url} --pool {pool}")
    typer.echo("  then open a sign-in link (the token after # never reaches the server's logs; "
               "each is shown once):")
    typer.echo(f"    {DEMO_ADMIN} (admin, the dashboard): "
               f"http://127.0.0.1:8000/#token={accounts.admin_token}")
    calibration = ("first calibration set assigned" if accounts.calibration_batch_id
                   else "no calibration set left")
    typer.echo(f"    {DEMO_ANNOTATOR} (annotator, {calibration}): "
               f"http://127.0.0.1:8000/#token={accounts.annotator_token}")


def _robopref_command() -> str:
    """How to call this robopref from here: `robopref` when it is on PATH, else its path.

    After `make demo` the venv is not activated: the hint then says `.venv/bin/robopref`.
    """
    here = Path(sys.executable).with_name("robopref")
    on_path = shutil.which("robopref")
    if not here.exists() or (on_path is not None and Path(on_path).resolve() == here.resolve()):
        return "robopref"
    return os.path.relpath(here) if here.is_relative_to(Path.cwd()) else str(here)

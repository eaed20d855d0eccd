"""The `robopref` command line: one verb group per stage, no logic of its own."""

from __future__ import annotations

import logging
from typing import Any

import typer
from typer._click.core import Context  # Typer ≥ 0.25 vendors click; its Context type
from typer.core import TyperGroup

from robopref.cli.annotate import annotate_app
from robopref.cli.annotators import annotators_app
from robopref.cli.campaign import campaign_app
from robopref.cli.demo import demo
from robopref.cli.label import label
from robopref.cli.pairs import pairs
from robopref.cli.policy import policy_app
from robopref.cli.pool import pool_app
from robopref.cli.qa import qa
from robopref.cli.release import release
from robopref.cli.render import render
from robopref.cli.serve import serve
from robopref.cli.train import train
from robopref.cli.validate import validate
from robopref.errors import InputError


class _Verbs(TyperGroup):
    """Maps bad input (`InputError`) to a one-line message and exit code 2."""

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except InputError as exc:
            typer.secho(f"error: {exc}", fg="red", err=True)
            raise typer.Exit(2) from exc


app = typer.Typer(
    name="robopref",
    cls=_Verbs,
    help="RLHF for robots: pool → clips → preferences → reward model → release → policy.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(pool_app, name="pool")
app.command()(render)
app.command()(pairs)
app.add_typer(annotate_app, name="annotate")
app.command()(label)
app.command()(qa)
app.add_typer(campaign_app, name="campaign")
app.command()(train)
app.command()(validate)
app.command()(release)
app.add_typer(policy_app, name="policy")
app.command()(serve)
app.add_typer(annotators_app, name="annotators")
app.command()(demo)


def main() -> None:
    """Entry point of the `robopref` console script."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    app()

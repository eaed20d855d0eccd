"""The `robopref` command line: one verb group per stage, no logic of its own."""

from __future__ import annotations

import logging
import sys

import typer

from robopref.cli.demo import demo
from robopref.cli.pool import pool_app
from robopref.errors import InputError

app = typer.Typer(
    name="robopref",
    help="RLHF for robots: trajectory pool → review clips → preferences → reward model → release.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(pool_app, name="pool")
app.command()(demo)


def main() -> None:
    """Entry point: run the app, mapping bad input to exit code 2 with a one-line message."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app(standalone_mode=False)
    except InputError as exc:
        typer.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(2)
    except ValueError as exc:  # a config's __post_init__ names the field
        typer.secho(f"error: {exc}", fg="red", err=True)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.exit(1)
    except Exception as exc:  # click's own usage errors carry their exit code
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise

"""`robopref annotators add|list|revoke`: accounts of the annotation server."""

from __future__ import annotations

from typing import Annotated

import typer

from robopref.errors import InputError
from robopref.store.defaults import DEFAULT_URL

annotators_app = typer.Typer(help="Accounts of the annotation server: add, list, revoke.",
                             no_args_is_help=True)

DbOption = Annotated[str, typer.Option("--db", help="Store URL (the store must exist).")]


@annotators_app.command()
def add(
    name: Annotated[str, typer.Argument(help="Annotator id (their sign-in name).")],
    db: DbOption = DEFAULT_URL,
    admin: Annotated[bool, typer.Option("--admin", help="An admin (dashboard) account.")] = False,
    reissue: Annotated[
        bool, typer.Option("--reissue", help="Replace an existing account's token.")
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed of the calibration set's left/right sides.")] = 0,
) -> None:
    """Create an account and print its login token (shown once; only its hash is stored).

    A new annotator is assigned the first open calibration set, so their first sign-in
    serves it; they reach production batches once certified.

    Example: robopref annotators add alice --db sqlite:///demo-output/robopref.db
    """
    from robopref.campaign import invite_annotator
    from robopref.store import Role, open_store

    store = open_store(db, existing=True)
    try:
        invited = invite_annotator(store, name, role=Role.ADMIN if admin else Role.ANNOTATOR,
                                   reissue=reissue, seed=seed)
    finally:
        store.dispose()
    verb = "added" if invited.created else "new token for"
    typer.echo(f"{verb} {invited.role.value} {name}: token {invited.token}")
    typer.echo("  (shown once: hand it over now; `--reissue` replaces it)")
    if invited.calibration_batch_id is not None:
        typer.echo(f"  first calibration set assigned: {invited.calibration_batch_id}")
    elif invited.role.value == "annotator":
        typer.echo("  no calibration set assigned (certified, already holding one, or none "
                   "stored: create them with `robopref pairs … --calibration --db`)")


@annotators_app.command("list")
def list_(db: DbOption = DEFAULT_URL) -> None:
    """One line per account: role, token, certified, excluded, phase, pairs done/assigned.

    Example: robopref annotators list --db sqlite:///demo-output/robopref.db
    """
    from robopref.campaign import phase_of
    from robopref.store import open_store
    from robopref.store.admin import annotator_activity

    store = open_store(db, existing=True)
    try:
        rows = annotator_activity(store)
        typer.echo(f"{'annotator':<24} {'role':<9} {'token':<7} {'certified':<9} "
                   f"{'excluded':<8} {'phase':<11} done/assigned")
        for a in rows:
            phase = "-" if a.role == "admin" else phase_of(store, a.annotator_id).value
            typer.echo(f"{a.annotator_id:<24} {a.role:<9} {_yes(a.has_token):<7} "
                       f"{_yes(a.certified):<9} {_yes(a.excluded):<8} {phase:<11} "
                       f"{a.done}/{a.assigned}")
    finally:
        store.dispose()
    typer.echo(f"{len(rows)} accounts")


@annotators_app.command()
def revoke(
    name: Annotated[str, typer.Argument(help="Annotator id.")],
    db: DbOption = DEFAULT_URL,
) -> None:
    """Revoke an account's token: it no longer signs in and its sessions end.

    Example: robopref annotators revoke alice --db sqlite:///demo-output/robopref.db
    """
    from robopref.store import open_store
    from robopref.store.admin import revoke_token

    store = open_store(db, existing=True)
    try:
        if not revoke_token(store, name):
            raise InputError(name, "annotator_id", "no such annotator")
    finally:
        store.dispose()
    typer.echo(f"revoked {name}'s token: it no longer signs in (`annotators add {name} "
               "--reissue` gives a new one)")


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"

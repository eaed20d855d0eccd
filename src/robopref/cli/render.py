"""`robopref render POOL`: standard review clips for every trajectory in a pool."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from robopref.cli.config_file import build_config
from robopref.cli.progress import progress_bar
from robopref.render.config import RenderConfig

_D = RenderConfig()


def render(
    pool: Annotated[Path, typer.Argument(help="Pool folder; clips go to POOL/clips/.")],
    camera: Annotated[str | None, typer.Option(help="Camera [the pool's primary camera].")] = None,
    size: Annotated[int | None, typer.Option(help=f"Clip width and height [{_D.width}].")] = None,
    fps: Annotated[float | None, typer.Option(help=f"Clip frame rate [{_D.fps:g}].")] = None,
    crf: Annotated[int | None, typer.Option(help=f"x264 CRF [{_D.crf}].")] = None,
    preset: Annotated[str | None, typer.Option(help=f"x264 preset [{_D.preset}].")] = None,
    overlays: Annotated[
        bool | None, typer.Option("--overlays/--no-overlays", help="Id, time and gripper overlays.")
    ] = None,
    force_strip: Annotated[
        bool | None, typer.Option("--force-strip/--no-force-strip", help="Force strip under video.")
    ] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes [all cores].")] = None,
    ray: Annotated[
        str | None,
        typer.Option("--ray", metavar="ADDRESS", help="Render on Ray: local, auto, ray://…"),
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="YAML with RenderConfig fields.")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Re-render every clip, unchanged ones too.")
    ] = False,
) -> None:
    """Render one standard clip per trajectory (H.264 480×480 15 fps, trimmed, with overlays).

    Each clip's watermark is its opaque display id (from POOL/clips/display-key.json,
    created on the first run; keep it private). Clips whose inputs and settings are
    unchanged are skipped unless --force; a clip that fails is listed, the others are still
    rendered, and the command exits 2 if every failure was a malformed trajectory (the first
    one named as file: field), else 1.

    Example: robopref render pools/mw --workers 8
    """
    from robopref.render import render_pool

    cfg = build_config(
        RenderConfig, config, camera=camera, width=size, height=size, fps=fps, crf=crf,
        preset=preset, overlays=overlays, force_strip=force_strip, workers=workers, ray_address=ray,
    )  # fmt: skip
    with progress_bar("rendering clips") as progress:
        report = render_pool(pool, cfg, progress=progress, force=force)
    for trajectory_id, reason in report.failed:
        typer.secho(f"failed {trajectory_id}: {reason}", fg="red")
    typer.echo(report.summary())
    if report.failed and len(report.bad_input) == len(report.failed):
        _, reason = report.failed[0]
        typer.secho(f"error: {reason}", fg="red", err=True)
        raise typer.Exit(code=2)
    if report.failed:
        raise typer.Exit(code=1)

"""`robopref demo`: the whole pipeline on embedded defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from robopref.cli.pool import show
from robopref.cli.progress import progress_bar


def demo(
    out: Annotated[Path, typer.Option("--out", help="Output folder.")] = Path("demo-output"),
    small: Annotated[bool, typer.Option("--small", help="Toy size (for tests).")] = False,
) -> None:
    """Run pool → clips → campaign → reward model → validation → release; print where.

    Example: robopref demo --out demo-output
    """
    from robopref.demo import DemoConfig, run_demo

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

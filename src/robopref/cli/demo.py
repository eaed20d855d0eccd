"""`robopref demo`: the whole pipeline on embedded defaults, as far as the stages exist."""

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
    """Run the pipeline on embedded defaults and print where its outputs are.

    Example: robopref demo --out demo-output
    """
    from robopref.demo import DemoConfig, run_demo

    config = DemoConfig.toy() if small else DemoConfig()
    with progress_bar("demo") as progress:
        result = run_demo(config, out, progress=progress)
    show(result.pool)
    typer.echo(f"demo outputs in {out}: pool {result.pool}")

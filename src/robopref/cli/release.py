"""`robopref release PREFERENCES POOL --out DIR`: the versioned release folder and archive."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from robopref.cli.config_file import build_config
from robopref.cli.progress import progress_bar
from robopref.release.config import ReleaseConfig

_D = ReleaseConfig()


def release(
    preferences: Annotated[Path, typer.Argument(help="preferences.parquet (or .jsonl) from qa.")],
    pool: Annotated[Path, typer.Argument(help="Pool folder the preferences compare.")],
    out: Annotated[Path, typer.Option(help="Folder for the release and archive.")] = Path(
        "release"
    ),
    name: Annotated[str | None, typer.Option(help=f"Dataset name [{_D.name}].")] = None,
    version: Annotated[str | None, typer.Option(help=f"Release version [{_D.version}].")] = None,
    model: Annotated[Path | None, typer.Option(help="Reward-model checkpoint folder.")] = None,
    annotations: Annotated[
        Path | None, typer.Option(help="Raw annotations file (ANNOTATIONS_SCHEMA).")
    ] = None,
    db: Annotated[
        str | None, typer.Option(help="Read raw annotations from this store URL instead.")
    ] = None,
    qa: Annotated[Path | None, typer.Option(help="QA report.json or its folder.")] = None,
    validation: Annotated[
        Path | None, typer.Option(help="Validation report.json or its folder.")
    ] = None,
    onnx: Annotated[
        bool | None, typer.Option("--onnx/--no-onnx", help="Export ONNX + inference.py.")
    ] = None,
    pt: Annotated[bool | None, typer.Option("--pt/--no-pt", help="Write reward_model.pt.")] = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace a release of the same version.")
    ] = False,
    config: Annotated[
        Path | None, typer.Option("--config", help="YAML with ReleaseConfig fields.")
    ] = None,
) -> None:
    """Package preferences, manifest, reward model, cards and notebook as a versioned archive.

    Example: robopref release demo-output/qa/preferences.parquet demo-output/pool
    --model demo-output/model --qa demo-output/qa --validation demo-output/validation
    --db sqlite:///demo-output/robopref.db --name demo --version 1.0.0 --out demo-output/release
    """
    from robopref.release.config import check_release_out

    check_release_out(out)  # before the model and the pool load
    from robopref.release import ReleaseInputs, build_release

    cfg = build_config(
        ReleaseConfig, config, name=name, version=version, onnx=onnx, pt=pt,
        overwrite=overwrite or None,
    )  # fmt: skip
    inputs = ReleaseInputs(
        preferences=preferences, pool=pool, model=model, annotations=annotations,
        store_url=db, qa_report=qa, validation=validation,
    )  # fmt: skip
    with progress_bar("building release") as progress:
        result = build_release(inputs, out, cfg, progress=progress)
    typer.echo(result.summary_line())

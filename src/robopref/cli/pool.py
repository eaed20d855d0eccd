"""`robopref pool generate|ingest|show|export|embed`."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from robopref.cli.config_file import build_config
from robopref.cli.progress import progress_bar
from robopref.pool.config import GenerateConfig, IngestConfig
from robopref.progress import ProgressCallback

if TYPE_CHECKING:
    import pandas as pd

pool_app = typer.Typer(help="Build and inspect trajectory pools.", no_args_is_help=True)
console = Console()
if not console.is_terminal:  # logs and pipes: wide enough for the tables, not 80 columns
    console.width = 120

ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="YAML file with config fields.")
]


@pool_app.command()
def generate(
    out: Annotated[Path, typer.Argument(help="Pool folder to create or append to.")],
    tasks: Annotated[
        list[str] | None, typer.Option("--task", help="Meta-World env (repeat).")
    ] = None,
    experts: Annotated[
        int | None, typer.Option(help=f"Expert episodes per task [{GenerateConfig.experts}].")
    ] = None,
    novices: Annotated[
        int | None, typer.Option(help=f"Novice episodes per task [{GenerateConfig.novices}].")
    ] = None,
    checkpoints: Annotated[
        int | None, typer.Option(help=f"BC checkpoints [{GenerateConfig.checkpoints}].")
    ] = None,
    max_steps: Annotated[
        int | None, typer.Option(help=f"Steps per episode [{GenerateConfig.max_steps}].")
    ] = None,
    frames: Annotated[
        bool | None, typer.Option("--frames/--no-frames", help="Record camera frames.")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help=f"Worker processes [{GenerateConfig.workers}].")
    ] = None,
    seed: Annotated[int | None, typer.Option(help=f"Random seed [{GenerateConfig.seed}].")] = None,
    config: ConfigOption = None,
) -> None:
    """Generate a Meta-World pool with every quality tier and ground truth.

    Example: robopref pool generate pools/mw --task reach-v3 --task push-v3 --no-frames
    """
    cfg = build_config(
        GenerateConfig,
        config,
        tasks=tasks or None,
        experts=experts,
        novices=novices,
        checkpoints=checkpoints,
        max_steps=max_steps,
        frames=frames,
        workers=workers,
        seed=seed,
    )
    from robopref.pool.generate import generate_pool

    with progress_bar("generating episodes") as progress:
        pool = generate_pool(cfg, out, progress=progress)
    typer.echo(summary_line(out, pool.manifest))


@pool_app.command()
def ingest(
    fmt: Annotated[str, typer.Argument(help="Format: lerobot, robomimic or npz.")],
    source: Annotated[Path, typer.Argument(help="Dataset folder or file to read.")],
    pool: Annotated[Path, typer.Argument(help="Pool folder to create or append to.")],
    source_label: Annotated[str | None, typer.Option(help="Source tier for all episodes.")] = None,
    success_key: Annotated[
        str | None, typer.Option(help="Column/attribute holding success.")
    ] = None,
    task: Annotated[str | None, typer.Option(help="Instruction for all episodes.")] = None,
    env_id: Annotated[str | None, typer.Option(help="Environment id for all episodes.")] = None,
    skip_bad: Annotated[bool, typer.Option("--skip-bad", help="Skip malformed episodes.")] = False,
    max_episodes: Annotated[int | None, typer.Option(help="Import at most this many.")] = None,
    source_dataset: Annotated[
        str | None, typer.Option(help="Provenance label, e.g. the hub repo id [source path].")
    ] = None,
    id_prefix: Annotated[str | None, typer.Option(help="Trajectory id prefix [source].")] = None,
    ee_pos_key: Annotated[
        str | None, typer.Option(help="Key with the (T,3) ee position, or 'a,b,c' state names.")
    ] = None,
    gripper_key: Annotated[
        str | None, typer.Option(help="Key or state name holding the gripper.")
    ] = None,
    effector_fallback: Annotated[
        str | None,
        typer.Option(help=f"If missing: error|state|constant [{IngestConfig.effector_fallback}]."),
    ] = None,
    fps: Annotated[float | None, typer.Option(help="Frame rate where the source has none.")] = None,
    config: ConfigOption = None,
) -> None:
    """Import episodes from LeRobot (v2.1/v3), robomimic HDF5 or NPZ into a pool.

    Example: robopref pool ingest lerobot ~/data/koch_pick pools/koch --source-label expert
    """
    from robopref.pool.ingest import ingest as run_ingest

    cfg = build_config(
        IngestConfig,
        config,
        source_label=source_label,
        success_key=success_key,
        task=task,
        env_id=env_id,
        skip_bad=skip_bad or None,
        max_episodes=max_episodes,
        source_dataset=source_dataset,
        id_prefix=id_prefix,
        ee_pos_key=ee_pos_key,
        gripper_key=gripper_key,
        effector_fallback=effector_fallback,
        fps=fps,
    )
    with progress_bar(f"importing {fmt}") as progress:
        report = run_ingest(fmt, source, pool, cfg, progress=progress)
    for episode, reason in report.skipped:
        console.print(f"[yellow]skipped[/] {episode}: {reason}")
    typer.echo(f"pool {pool}: imported {report.imported}, skipped {len(report.skipped)}")


@pool_app.command()
def export(
    pool: Annotated[Path, typer.Argument(help="Pool folder.")],
    out: Annotated[Path, typer.Argument(help="LeRobotDataset v3 folder to write.")],
    repo_id: Annotated[
        str, typer.Option(help="repo_id written into the dataset.")
    ] = "robopref/pool",
) -> None:
    """Export a pool as a LeRobotDataset v3 folder.

    Example: robopref pool export pools/mw exports/mw_lerobot --repo-id me/mw
    """
    import robopref.pool as rp
    from robopref.pool.export import export_lerobot

    with progress_bar("exporting episodes") as progress:
        n = export_lerobot(rp.open(pool), out, repo_id=repo_id, progress=progress)
    typer.echo(f"exported {n} episodes to {out}")


@pool_app.command()
def show(pool: Annotated[Path, typer.Argument(help="Pool folder.")]) -> None:
    """Print a pool's summary: counts by task × source, success by tier, quartiles, metrics.

    Example: robopref pool show demo-output/pool
    """
    import robopref.pool as rp
    from robopref.pool.summary import summarize

    opened = rp.open(pool)
    summary = summarize(opened.manifest)
    console.print(_table("trajectories by task × source", summary.counts))
    console.print(_table("by tier", summary.by_tier, percent={"success"}))
    console.print(_table("quality-score quartile boundaries per task", summary.quartile_bounds))
    console.print(_table("metric ranges", summary.metric_ranges))
    typer.echo(summary_line(pool, opened.manifest))


@pool_app.command()
def embed(
    pool: Annotated[Path, typer.Argument(help="Pool folder.")],
    encoder: Annotated[
        str, typer.Option(help="Backbone, e.g. efficientnet_lite0 (robopref.vision.BACKBONES).")
    ],
    weights: Annotated[
        Path | None, typer.Option(help="Weights file (.safetensors/.pth) [bundled ones].")
    ] = None,
    cameras: Annotated[
        list[str] | None, typer.Option("--camera", help="Camera to embed (repeat) [all].")
    ] = None,
    views: Annotated[
        int,
        typer.Option(
            min=1, help="Views per frame: the frame, then random shifts (as robopref train)."
        ),
    ] = 4,
    shift: Annotated[
        int, typer.Option(min=0, help="Largest shift of the extra views, in pixels.")
    ] = 4,
    input_size: Annotated[
        int | None,
        typer.Option(
            "--input-size", min=1, help="Side frames are resized to in the backbone [its own]."
        ),
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Images per forward.")] = 256,
    device: Annotated[str, typer.Option(help="auto (CUDA when present), cpu or cuda.")] = "auto",
    workers: Annotated[
        int, typer.Option(min=1, help="Above 1: a local Ray instance of this many CPUs.")
    ] = 1,
    ray: Annotated[
        str | None, typer.Option("--ray", help="Ray cluster address (auto, ray://host:10001).")
    ] = None,
) -> None:
    """Embed every frame of the pool's clips with a frozen backbone into the embedding cache.

    Clips already in the cache (POOL/.cache/embeddings, keyed on each MP4's digest) are
    skipped, so a second run embeds nothing.

    Example: robopref pool embed pools/mw --encoder efficientnet_lite0 --views 4
    """
    import robopref.pool as rp
    from robopref.vision.embed import BackboneRef, embed_pool

    opened = rp.open(pool)
    ref = BackboneRef(encoder, weights, input_size=input_size)
    with ExitStack() as stack:
        bar: list[ProgressCallback] = []

        def progress(done: int, total: int) -> None:  # the bar opens once the backbone loaded
            if not bar:
                bar.append(stack.enter_context(progress_bar(f"embedding frames ({encoder})")))
            bar[0](done, total)

        report = embed_pool(
            opened, ref, cameras=cameras, views=views, shift=shift, batch_size=batch_size,
            device=device, ray_address=ray, workers=workers, progress=progress,
        )  # fmt: skip
    speed = f" at {report.frames_per_second:.0f} frames/s" if report.embedded else ""
    typer.echo(
        f"embedded pool {pool} with {encoder}: {report.trajectories} trajectories,"
        f" {report.clips} clips, {report.frames} frames; {report.embedded} clips new"
        f" ({report.embedded_frames} frames{speed} on {report.device}),"
        f" {report.cached} cached; cache {', '.join(str(f) for f in report.folders)}"
    )


def summary_line(path: Path, manifest: pd.DataFrame) -> str:
    """One-line summary of a pool: size, tasks, success rate."""
    n_tasks, success = manifest["task"].nunique(), manifest["success"].mean()
    return f"pool {path}: {len(manifest)} trajectories, {n_tasks} tasks, success {success:.0%}"


def _table(title: str, frame: pd.DataFrame, percent: set[str] | None = None) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column(str(frame.index.name or ""), no_wrap=True, overflow="ellipsis", max_width=40)
    for column in frame.columns:
        header = str(column).replace("policy_checkpoint_", "ckpt")  # fits 80 columns
        table.add_column(header, justify="right")
    for index, row in frame.iterrows():
        cells = [_cell(v, str(c) in (percent or set())) for c, v in row.items()]
        table.add_row(str(index), *cells)
    return table


def _cell(value: object, as_percent: bool) -> str:
    if isinstance(value, float):
        return f"{value:.0%}" if as_percent else f"{value:.3g}"
    return str(value)

"""`robopref pairs POOL OUT`: draw a stratified or active batch (and calibration/ranking sets)."""

from __future__ import annotations

from dataclasses import asdict, replace
from pathlib import Path
from typing import Annotated

import typer

from robopref.cli.config_file import build_config
from robopref.errors import InputError
from robopref.pairs.config import ActiveConfig, PairsConfig

_D = PairsConfig()
_A = ActiveConfig()


def pairs(
    pool: Annotated[Path, typer.Argument(help="Pool folder or manifest .parquet file.")],
    out: Annotated[
        Path, typer.Argument(help="Folder for pairs.parquet, assignments.parquet, batches.json.")
    ],
    annotator: Annotated[
        list[str] | None, typer.Option("--annotator", help="Annotator id (repeat).")
    ] = None,
    annotators: Annotated[
        int, typer.Option(help="Without --annotator: this many ids ann-01, ann-02, …")
    ] = 5,
    batch_size: Annotated[
        int | None,
        typer.Option(help=f"Pairs per batch [{_D.batch_size}; {_A.batch_size} with --active]."),
    ] = None,
    per_pair: Annotated[
        int | None, typer.Option(help=f"Annotators per pair [{_D.annotators_per_pair}].")
    ] = None,
    duplicates: Annotated[
        float | None, typer.Option(help=f"Share repeated reversed [{_D.duplicate_frac:g}].")
    ] = None,
    cross_task: Annotated[
        bool | None, typer.Option("--cross-task/--same-task", help="Allow cross-task pairs.")
    ] = None,
    calibration: Annotated[
        bool, typer.Option("--calibration", help="Also draw the calibration sets.")
    ] = False,
    ranking_sets: Annotated[int, typer.Option(help="Ranking sets to draw as well.")] = 0,
    rubric: Annotated[
        bool, typer.Option("--rubric", help="Ask the rubric sub-questions on the batch's pairs.")
    ] = False,
    batch_id: Annotated[str | None, typer.Option(help="Batch id [derived from the seed].")] = None,
    seed: Annotated[int | None, typer.Option(help=f"Random seed [{_D.seed}].")] = None,
    db: Annotated[
        str | None, typer.Option("--db", help="Also store the batches (and sync the pool) here.")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="YAML with PairsConfig fields.")
    ] = None,
    active: Annotated[
        Path | None,
        typer.Option("--active", help="Reward-model checkpoint: pairs where it is least sure."),
    ] = None,
    labelled: Annotated[
        Path | None,
        typer.Option(help="Preferences, annotations or pairs file: pairs not to draw again."),
    ] = None,
) -> None:
    """Draw a batch of pairs stratified by quality quartile and assign it to annotators.

    40% adjacent-quartile, 30% same-quartile and 30% distant (gold) pairs by default, each
    pair to 3 annotators with left/right at random, 7.5% repeated reversed.

    With --active MODEL, a batch of 100 where the model is least sure instead: unlabelled
    same-task pairs within 0.5 σ, ensemble disagreement first, spread over trajectories,
    with the same gold and duplicate shares (see docs/labels.md).

    Example: robopref pairs demo-output/pool batches/b1 --annotators 6 --calibration

    Example: robopref pairs demo-output/pool batches/b2 --active demo-output/model
    --labelled demo-output/qa/preferences.parquet
    """
    from robopref.pairs import read_manifest, select_batches, write_batches
    from robopref.pairs.files import check_pairs_out

    check_pairs_out(out)
    cfg = build_config(
        PairsConfig, config, batch_size=batch_size, annotators_per_pair=per_pair,
        duplicate_frac=duplicates, cross_task=cross_task, seed=seed,
    )  # fmt: skip
    ids = annotator or [f"ann-{i + 1:02d}" for i in range(annotators)]
    record: dict[str, object] = {}
    if active is not None:
        if calibration or ranking_sets:
            raise InputError("command line", "--active", "draws no calibration or ranking sets")
        from robopref.cli.pairs_active import draw_active

        active_cfg = build_config(ActiveConfig, None, batch_size=batch_size)
        batches = [
            draw_active(
                pool, active, pairs_config=cfg, config=active_cfg, annotator_ids=ids,
                labelled=labelled, batch_id=batch_id, db=db,
            )
        ]  # fmt: skip
        record = {"active": asdict(active_cfg), "model": str(active)}
    else:
        if labelled is not None:
            raise InputError("command line", "--labelled", "only used with --active")
        batches = select_batches(
            read_manifest(pool), cfg, annotator_ids=ids, calibration=calibration,
            ranking_sets=ranking_sets, batch_id=batch_id, manifest_path=str(pool),
        )  # fmt: skip
    if rubric:  # the first batch only: calibration and ranking sets ask no rubric
        batches[0] = replace(batches[0], rubric=True)
    files = write_batches(batches, out, config=cfg, record=record)
    if db is not None:
        from robopref.store import create_batch, open_store, sync_trajectories

        store = open_store(db)
        try:
            sync_trajectories(store, read_manifest(pool))
            for batch in batches:
                create_batch(store, batch)
        finally:
            store.dispose()
    n_pairs = sum(len(b.pairs) for b in batches)
    n_assign = sum(len(b.assignments) for b in batches)
    kinds = ", ".join(f"{b.kind.value} {b.batch_id}" for b in batches)
    typer.echo(
        f"wrote {n_pairs} pairs, {n_assign} assignments for {len(ids)} annotators "
        f"({kinds}) to {files.pairs.parent}"
    )

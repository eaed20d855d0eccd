"""`robopref annotate simulate`: simulated annotators answer a batch in the store."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from robopref.cli.progress import progress_bar
from robopref.errors import InputError
from robopref.store.defaults import DEFAULT_URL
from robopref.types import TruthColumn

annotate_app = typer.Typer(help="Collect preferences (simulated annotators).", no_args_is_help=True)


@annotate_app.command()
def simulate(
    batch: Annotated[str, typer.Option("--batch", help="Batch id to answer.")],
    db: Annotated[str, typer.Option("--db", help="Store URL.")] = DEFAULT_URL,
    annotators: Annotated[
        str,
        typer.Option(
            help="Profiles, e.g. oracle:3,speeder:1,left-clicker:1 "
            "(teacher, trait or teacher+trait), or a YAML file."
        ),
    ] = "oracle:3",
    pool: Annotated[
        Path | None,
        typer.Option(
            help="Pool folder: per-step progress for myopic teachers "
            "(otherwise the store's quality scores alone)."
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    truth: Annotated[
        TruthColumn,
        typer.Option(help="What the annotators answer from (true_return needs --pool)."),
    ] = TruthColumn.QUALITY_SCORE,
) -> None:
    """Have simulated annotators (B-Pref teachers + traits) answer a batch's assignments.

    The profiles are dealt out over the batch's annotator ids in sorted order; answers go
    through the same submission path as people's, so a rerun adds nothing. With --truth
    true_return they answer from the simulator's return (normalised within each task).

    Example: robopref annotate simulate --db sqlite:///robopref.db --batch b-0001
    --annotators oracle:3,speeder:1,left-clicker:1 --seed 0
    """
    from robopref.store import batch_annotator_ids, count_annotations, open_store
    from robopref.store import trajectories_frame as store_trajectories
    from robopref.teachers import cast_roster, label_batch, parse_roster, simulated_labelers
    from robopref.teachers.truth import truth_from_frame, truth_from_pool

    if pool is None and truth is TruthColumn.TRUE_RETURN:
        raise InputError("--pool", "truth", "true_return is read from the pool: give --pool")
    store = open_store(db, existing=True)
    cast = cast_roster(parse_roster(annotators), batch_annotator_ids(store, batch))
    if pool is not None:
        ground = truth_from_pool(pool, truth)
    else:
        ground = truth_from_frame(store_trajectories(store), truth)
    with progress_bar(f"simulating {batch}") as progress:
        labelers = simulated_labelers(cast, ground)
        created = label_batch(store, batch, labelers, seed=seed, progress=progress)
    mix = ", ".join(f"{label}×{n}" for label, n in sorted(Counter(a.label for a in cast).items()))
    total = count_annotations(store, batch_id=batch)
    typer.echo(
        f"batch {batch}: {created} new simulated annotations ({total} in the batch) "
        f"from {len(cast)} annotators: {mix}"
    )
    store.dispose()

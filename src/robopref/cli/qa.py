"""`robopref qa ANNOTATIONS PAIRS --out DIR`: quality control, the report and the export."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, NamedTuple

import typer

from robopref.cli.config_file import build_config
from robopref.cli.progress import progress_bar
from robopref.quality.config import QAConfig

_D = QAConfig()


def qa(
    annotations: Annotated[
        Path | None, typer.Argument(help="Annotations .parquet (ANNOTATIONS_SCHEMA).")
    ] = None,
    pairs: Annotated[Path | None, typer.Argument(help="Pairs .parquet (PAIR_COLUMNS).")] = None,
    db: Annotated[
        str | None, typer.Option("--db", help="Read annotations and pairs from this store.")
    ] = None,
    certify: Annotated[
        bool,
        typer.Option("--certify", help="With --db: record calibration kappas, assign retests."),
    ] = False,
    seed: Annotated[
        int, typer.Option(help="With --certify: seed of the retests' left/right sides.")
    ] = 0,
    out: Annotated[Path, typer.Option(help="Folder for the report and the export.")] = Path("qa"),
    kappa_threshold: Annotated[
        float | None, typer.Option(help=f"Certification kappa [{_D.kappa_threshold:g}].")
    ] = None,
    keep_flagged: Annotated[
        bool, typer.Option("--keep-flagged", help="Keep flagged annotators' labels.")
    ] = False,
    split_as_tie: Annotated[
        bool, typer.Option("--split-as-tie", help="Export split votes as 0.5 (else dropped).")
    ] = False,
    source: Annotated[str | None, typer.Option(help=f"Export source [{_D.source}].")] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="YAML with QAConfig fields.")
    ] = None,
) -> None:
    """Score annotators, measure agreement and export one preference per pair.

    Writes report.json, report.html, preferences.parquet, preferences.jsonl and config.json.
    With --db, annotators the lead excluded on the dashboard are left out of the export
    like flagged ones, and the report names them.

    Example: robopref qa --db sqlite:///robopref.db --out demo-output/qa
    (or from files: robopref qa annotations.parquet pairs.parquet --out qa)
    """
    from robopref.quality import format_report, run_qa

    cfg = build_config(
        QAConfig, config, kappa_threshold=kappa_threshold,
        exclude_flagged=False if keep_flagged else None,
        split_as_tie=True if split_as_tie else None, source=source,
    )  # fmt: skip
    from robopref.quality.qa import check_qa_out

    check_qa_out(out)  # before the store or the files are read
    frames = _frames(annotations, pairs, db)
    with progress_bar("quality control") as progress:
        result = run_qa(frames.annotations, frames.pairs, cfg, out_dir=out,
                        excluded_by_lead=frames.excluded_by_lead, progress=progress)
    typer.echo(format_report(result.report))
    if certify:
        _certify(db, cfg, seed=seed)
    s = result.report.summary
    alpha = "n/a" if s["alpha"] is None or s["alpha"] != s["alpha"] else f"{s['alpha']:.3f}"
    typer.echo(
        f"qa: {s['annotations']} annotations, alpha {alpha}, flagged {len(s['flagged'])}, "
        f"{s['preferences']} preferences → {result.preference_files.parquet}"
    )


class _Frames(NamedTuple):
    annotations: Any
    pairs: Any
    excluded_by_lead: list[str]
    """Annotators the lead excluded in the store (none for files)."""


def _frames(annotations: Path | None, pairs: Path | None, db: str | None) -> _Frames:
    """Annotations, pairs and the lead's exclusions from the store at `db`, or the two files."""
    from robopref.errors import InputError
    from robopref.quality import read_frame

    if db is not None:
        from robopref.store import annotations_frame, open_store, pairs_frame
        from robopref.store.admin import excluded_annotators

        store = open_store(db, existing=True)
        try:
            frames = _Frames(annotations_frame(store), pairs_frame(store),
                             excluded_annotators(store))
        finally:
            store.dispose()
        if frames.annotations.empty:
            raise InputError(db, "annotations", "the store holds no annotations yet")
        return frames
    if annotations is None or pairs is None:
        raise InputError("command line", "--db", "give --db URL, or ANNOTATIONS and PAIRS files")
    return _Frames(read_frame(annotations, "annotations"), read_frame(pairs, "pairs"), [])


def _certify(db: str | None, config: Any, *, seed: int) -> None:
    """Record each annotator's latest calibration kappa in the store; assign retests."""
    from robopref.campaign import assign_retests, certify
    from robopref.errors import InputError
    from robopref.store import open_store

    if db is None:
        raise InputError("command line", "--certify", "needs --db URL (certification is stored)")
    store = open_store(db, existing=True)
    try:
        latest = certify(store, config)
        retests = assign_retests(store, latest, seed=seed)
    finally:
        store.dispose()
    for row in latest.to_dict("records"):
        where = f" on {retests[row['annotator_id']]}" if row["annotator_id"] in retests else ""
        typer.echo(f"{row['annotator_id']}: kappa {row['kappa']:.2f} on {row['batch_id']}: "
                   f"{row['step']}{where}")  # fmt: skip

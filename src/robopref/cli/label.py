"""`robopref label`: an AI labeler answers a stored batch's assignments."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from robopref.cli.progress import progress_bar
from robopref.errors import InputError
from robopref.store.defaults import DEFAULT_URL
from robopref.teachers.vlm_config import AdapterConfig, VLMConfig

if TYPE_CHECKING:
    from robopref.store import Store
    from robopref.teachers.labeler import Labeler


@dataclass(frozen=True, kw_only=True)
class LabelRequest:
    """What the command line asked for; each labeler reads the options it needs."""

    store: Store
    pool: Path
    annotator_ids: Sequence[str]
    weights: Path | None
    arch: str | None
    adapter: Path | None
    save_adapter: Path | None
    model: Path | None
    camera: str | None
    steps: int
    human_labels: bool
    abstain_margin: float | None
    """None: each labeler's own default."""
    device: str


@dataclass(frozen=True)
class Built:
    """The labelers made for a request, and a note for the summary line."""

    labelers: list[Labeler]
    note: str


def build_vlm(request: LabelRequest) -> Built:
    """The vision-language labeler (open_clip + PrefVLM adapters), one per annotator id.

    Raises:
        InputError: No `--weights` or `--arch`, or anything `prepare_vlm` refuses.
    """
    import robopref.pool as rp
    from robopref.store import annotations_frame
    from robopref.teachers.vlm_adapter_file import save_adapter
    from robopref.teachers.vlm_build import prepare_vlm
    from robopref.teachers.vlm_labeler import human_labels, load_clip

    if request.weights is None or request.arch is None:
        option = "--weights" if request.weights is None else "--arch"
        raise InputError(option, option[2:], "the vlm labeler needs --weights FILE and --arch ARCH")
    margin = VLMConfig.abstain_margin if request.abstain_margin is None else request.abstain_margin
    config = VLMConfig(
        camera=request.camera, abstain_margin=margin, device=request.device,
        adapter=AdapterConfig(steps=request.steps),
    )  # fmt: skip
    clip = load_clip(request.arch, request.weights)
    labels = human_labels(annotations_frame(request.store)) if request.human_labels else []
    with progress_bar("embedding frames") as progress:
        build = prepare_vlm(
            rp.open(request.pool), clip, config=config, adapter=request.adapter,
            labels=labels, progress=progress,
        )  # fmt: skip
    if request.save_adapter is not None:
        save_adapter(
            build.scorer.adapter, request.save_adapter, origin=build.origin, report=build.fit
        )
    embed = build.embed
    note = f"{embed.embedded} clips embedded, {embed.cached} cached"
    if build.fit is not None:
        fit = build.fit
        note += f"; inverse-dynamics loss {fit.inverse_before:.3f} → {fit.inverse_after:.3f}"
        note += f", {fit.pairs} human-labelled pairs"
    labelers: list[Labeler] = [build.labeler(a, config) for a in request.annotator_ids]
    return Built(labelers, note)


def build_rubric(request: LabelRequest) -> Built:
    """The rubric labeler (seed 000's rubric on observable metrics, the pool's weights)."""
    import robopref.pool as rp
    from robopref.teachers.rubric_labeler import RubricLabeler, RubricLabelerConfig

    opened = rp.open(request.pool)
    config = RubricLabelerConfig(rubric=opened.config)
    labelers: list[Labeler] = [
        RubricLabeler(opened.manifest, annotator_id=a, config=config) for a in request.annotator_ids
    ]
    return Built(labelers, "rubric on the manifest's observable metrics")


def build_transfer(request: LabelRequest) -> Built:
    """The transfer labeler: a reward model trained elsewhere (`--model DIR`) judges the pairs.

    Raises:
        InputError: No `--model`, or a checkpoint `robopref.reward.load` refuses.
    """
    import robopref.pool as rp
    from robopref.reward import load
    from robopref.reward.checkpoint_format import WEIGHTS_FILE
    from robopref.teachers.transfer_labeler import TransferLabeler, TransferLabelerConfig
    from robopref.vision.weights import file_digest

    if request.model is None:
        raise InputError("--model", "model", "the transfer labeler needs --model DIR")
    model = load(request.model)
    digest = file_digest(request.model / WEIGHTS_FILE).removeprefix("sha256:")
    margin = request.abstain_margin
    config = TransferLabelerConfig() if margin is None else TransferLabelerConfig(dead_zone=margin)
    opened = rp.open(request.pool)
    labelers: list[Labeler] = [
        TransferLabeler(model, opened, annotator_id=a, weights_digest=digest, config=config)
        for a in request.annotator_ids
    ]
    return Built(labelers, f"reward model {request.model}")


LABELERS: dict[str, Callable[[LabelRequest], Built]] = {
    "vlm": build_vlm,
    "rubric": build_rubric,
    "transfer": build_transfer,
}
"""AI labelers by `--labeler` name."""


def label(
    batch: Annotated[str, typer.Argument(help="Batch id to answer.")],
    pool: Annotated[Path, typer.Option(help="Pool folder the batch's trajectories are in.")],
    labeler: Annotated[str, typer.Option(help=f"AI labeler: {', '.join(LABELERS)}.")] = "vlm",
    db: Annotated[str, typer.Option("--db", help="Store URL.")] = DEFAULT_URL,
    annotators: Annotated[
        list[str] | None,
        typer.Option("--annotator", help="Annotator id it answers for (repeat) [all the batch's]."),
    ] = None,
    weights: Annotated[
        Path | None, typer.Option(help="vlm: open_clip weights file (.safetensors/.pt).")
    ] = None,
    arch: Annotated[
        str | None, typer.Option(help="vlm: open_clip architecture, e.g. ViT-B-32.")
    ] = None,
    adapter: Annotated[
        Path | None, typer.Option(help="vlm: a saved adapter folder, used as it is (no training).")
    ] = None,
    save_adapter: Annotated[
        Path | None, typer.Option("--save-adapter", help="vlm: write the adapter to this folder.")
    ] = None,
    model: Annotated[
        Path | None, typer.Option(help="transfer: reward-model checkpoint folder (robopref train).")
    ] = None,
    camera: Annotated[
        str | None, typer.Option(help="vlm: camera judged [the primary one].")
    ] = None,
    steps: Annotated[
        int, typer.Option(min=0, help="vlm: adapter training steps (0: zero-shot).")
    ] = AdapterConfig.steps,
    human: Annotated[
        bool,
        typer.Option(
            "--human-labels/--no-human-labels",
            help="vlm: train the adapters on the store's human labels too (preference loss).",
        ),
    ] = True,
    abstain_margin: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            max=0.5,
            help="vlm, transfer: abstain when |P(A≻B) − 0.5| is below this [0.02, 0.05].",
        ),
    ] = None,
    device: Annotated[str, typer.Option(help="auto (CUDA when present), cpu or cuda.")] = "auto",
    seed: Annotated[int, typer.Option(help="Seed (part of each idempotency key).")] = 0,
) -> None:
    """Have an AI labeler answer a stored batch's assignments (labels keep their provenance).

    Answers go through the same submission path as people's, with `interface_version`
    `ai:<labeler>/<version>@<digest>`, so QA never counts them as human and a rerun adds
    nothing; abstentions mark the assignment skipped.

    vlm: frozen open_clip (`--weights`, `--arch`) with PrefVLM's adapters, trained here on
    the pool's frames and actions (and the store's human labels) unless `--adapter` is given;
    rubric: the rubric on the manifest's observable metrics; transfer: a reward model trained
    on other tasks or data (`--model`).

    Example: robopref label b-0001 --db sqlite:///robopref.db --pool pools/mw --labeler vlm
    --weights open_clip_vit_b32.safetensors --arch ViT-B-32
    """
    from robopref.store import assignments_frame, batch_annotator_ids, open_store
    from robopref.teachers import label_batch

    if labeler not in LABELERS:
        raise InputError("--labeler", "labeler", f"{labeler!r} is not one of {', '.join(LABELERS)}")
    store = open_store(db, existing=True)
    try:
        ids = annotators or batch_annotator_ids(store, batch)
        request = LabelRequest(
            store=store, pool=pool, annotator_ids=ids, weights=weights, arch=arch,
            adapter=adapter, save_adapter=save_adapter, model=model, camera=camera, steps=steps,
            human_labels=human, abstain_margin=abstain_margin, device=device,
        )  # fmt: skip
        built = LABELERS[labeler](request)
        with progress_bar(f"labelling {batch}") as progress:
            created = label_batch(store, batch, built.labelers, seed=seed, progress=progress)
        assigned = assignments_frame(store, batch)
        skipped = int(assigned[assigned["annotator_id"].isin(ids)]["skipped"].sum())
        version = built.labelers[0].provenance.interface_version if built.labelers else labeler
        typer.echo(
            f"batch {batch}: {created} new {labeler} annotations ({skipped} abstained) for "
            f"{len(ids)} annotators as {version}; {built.note}"
        )
    finally:
        store.dispose()

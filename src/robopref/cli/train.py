"""`robopref train`: fit a Bradley–Terry reward model on preferences over a pool."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from robopref.cli.config_file import build_config
from robopref.cli.progress import progress_bar
from robopref.reward.config import (
    DEFAULT_LR,
    FINETUNE_LR,
    RECOMMENDED_BACKBONE,
    EncoderConfig,
    LossConfig,
    TrainConfig,
)

E, L, T = EncoderConfig, LossConfig, TrainConfig

console = Console()


def train(
    preferences: Annotated[Path, typer.Argument(help="preferences.parquet (or .jsonl).")],
    pool: Annotated[Path, typer.Argument(help="Pool folder holding the trajectories.")],
    out: Annotated[Path, typer.Option("--out", help="Checkpoint folder to write.")] = Path("model"),
    encoder: Annotated[
        str | None,
        typer.Option(
            help=f"Encoder: state, conv, or a pretrained image backbone (efficientnet_lite0, "
            f"resnet18, vit_s16, dinov2_vits14, r3m_resnet18, open_clip:ARCH, … — `robopref "
            f"pool embed --help` lists them) [{E.kind}; with --images-only "
            f"{RECOMMENDED_BACKBONE}]."
        ),
    ] = None,
    weights: Annotated[
        Path | None,
        typer.Option(help="Pretrained backbone's weights file (EfficientNet-Lite0 needs none)."),
    ] = None,
    camera: Annotated[
        list[str] | None,
        typer.Option(help="Camera the image encoder reads; repeat for several (pretrained)."),
    ] = None,
    views: Annotated[
        int | None, typer.Option(help=f"Pretrained: embedded views per frame [{E.views}].")
    ] = None,
    input_size: Annotated[
        int | None,
        typer.Option(help="Pretrained: side frames are resized to in the backbone [its own]."),
    ] = None,
    temporal: Annotated[
        str | None, typer.Option(help=f"Aggregation: mean, conv, transformer [{E.temporal.value}].")
    ] = None,
    language: Annotated[
        bool | None,
        typer.Option(
            "--language/--no-language", help=f"Condition on the instruction [{E.language}]."
        ),
    ] = None,
    with_state: Annotated[
        bool | None,
        typer.Option(
            "--with-state/--images-only",
            help=f"Image encoders also read state + action (image + state) [{E.with_state}].",
        ),
    ] = None,
    n_steps: Annotated[
        int | None, typer.Option(help=f"Steps each trajectory is subsampled to [{E.n_steps}].")
    ] = None,
    image_size: Annotated[
        int | None, typer.Option(help=f"Frame side for image encoders [{E.image_size}].")
    ] = None,
    resnet_weights: Annotated[
        Path | None, typer.Option(help="Local ResNet-18 weights file.")
    ] = None,
    finetune: Annotated[
        bool | None,
        typer.Option(
            "--finetune/--frozen",
            help="Pretrained: fine-tune the backbone end to end on raw frames (a GPU; lr "
            f"{FINETUNE_LR:g}, random shifts; runs under torchrun across GPUs) instead of "
            f"training heads on its cached features [{'finetune' if E.finetune else 'frozen'}].",
        ),
    ] = None,
    epochs: Annotated[
        int | None, typer.Option(help=f"Maximum epochs per member [{T.epochs}].")
    ] = None,
    lr: Annotated[
        float | None,
        typer.Option(help=f"Adam learning rate [{DEFAULT_LR:g}; {FINETUNE_LR:g} with --finetune]."),
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option(help=f"Pairs per step [{T.batch_size}].")
    ] = None,
    ensemble: Annotated[
        int | None, typer.Option(help=f"Ensemble members [{T.ensemble_size}].")
    ] = None,
    split: Annotated[
        str | None, typer.Option(help=f"Hold out by pair or trajectory [{T.split.value}].")
    ] = None,
    tie_mode: Annotated[
        str | None, typer.Option(help=f"Ties as soft targets or margin [{L.tie_mode.value}].")
    ] = None,
    label_flip: Annotated[
        float | None,
        typer.Option(help=f"Assumed label flip rate, ≈ 1 − gold accuracy [{L.label_flip:g}]."),
    ] = None,
    bootstrap: Annotated[
        str | None,
        typer.Option(help=f"Members' data: none, resample or weights [{T.bootstrap.value}]."),
    ] = None,
    shift_pixels: Annotated[
        int | None,
        typer.Option(
            help=f"Image random-shift augmentation, px [0; {E.view_shift} with --finetune]."
        ),
    ] = None,
    seed: Annotated[int | None, typer.Option(help=f"Random seed [{T.seed}].")] = None,
    device: Annotated[str | None, typer.Option(help=f"auto, cpu or cuda[:N] [{T.device}].")] = None,
    onnx: Annotated[
        bool, typer.Option("--onnx", help="Also export OUT/model.onnx (parity-checked).")
    ] = False,
    config: Annotated[
        Path | None, typer.Option("--config", help="YAML with TrainConfig fields.")
    ] = None,
) -> None:
    """Train a reward model (an ensemble) and write a checkpoint folder.

    Example: robopref train demo-output/preferences.parquet demo-output/pool --out demo-output/model

    Fine-tuning on N GPUs: torchrun --nproc-per-node N -m robopref train PREFS POOL --finetune
    """
    from robopref.reward.checkpoint_format import check_checkpoint_out

    check_checkpoint_out(out)  # before torch loads: a refused folder costs nothing
    from robopref.reward import train_reward_model

    cfg = build_config(
        TrainConfig,
        config,
        epochs=epochs,
        lr=lr,
        batch_size=batch_size,
        ensemble_size=ensemble,
        bootstrap=bootstrap,
        shift_pixels=shift_pixels,
        split=split,
        seed=seed,
        device=device,
        encoder={
            **encoder_choice(encoder, with_state, resnet_weights, weights, finetune),
            "finetune": finetune,
            "camera": camera[0] if camera else None,
            "cameras": tuple(camera) if camera and len(camera) > 1 else None,
            "views": views,
            "input_size": input_size,
            "temporal": temporal,
            "language": language,
            "with_state": with_state,
            "n_steps": n_steps,
            "image_size": image_size,
        },
        loss={"tie_mode": tie_mode, "label_flip": label_flip},
    )
    from robopref.progress import no_progress
    from robopref.reward.distributed import world

    main_rank = world().main  # under torchrun, rank 0 alone reports and writes
    with (
        (
            progress_bar("reading trajectories") if main_rank else nullcontext(no_progress)
        ) as load_progress,
        _epoch_bar(enabled=main_rank) as (progress, on_epoch),
    ):
        result = train_reward_model(
            preferences,
            pool,
            cfg,
            out=out,
            progress=progress,
            load_progress=load_progress,
            on_epoch=on_epoch,
        )
    if not main_rank:
        return
    if onnx:
        from robopref.reward.onnx import export_onnx

        info = export_onnx(result.model, out / "model.onnx")
        (out / "onnx_input_format.json").write_text(json.dumps(info, indent=1))
    m = result.metrics
    spread = m["test_accuracy_members"]
    console.print(
        f"trained {cfg.ensemble_size} × {_encoder_name(cfg.encoder)} on {m['n_train']} pairs: "
        f"test accuracy {m['test_accuracy']:.3f} "
        f"(members {spread['mean']:.3f} ± {spread['std']:.3f}, {m['n_test']} pairs), "
        f"val {m['val_accuracy']:.3f}; checkpoint {out}"
    )


def encoder_choice(
    encoder: str | None,
    with_state: bool | None,
    resnet_weights: Path | None,
    weights: Path | None,
    finetune: bool | None = None,
) -> dict[str, Any]:
    """`--encoder` as EncoderConfig fields.

    `state` and `conv` are kinds, other names are pretrained backbones; `--images-only` alone
    takes the recommended backbone, `--finetune` alone the config file's (or the recommended
    one). `resnet18` with `--resnet-weights` is the older ResNet-18 trained end to end.

    >>> encoder_choice(None, False, None, None)["backbone"]
    'efficientnet_lite0'
    >>> encoder_choice(None, None, None, None, True)["kind"]
    'pretrained'
    >>> encoder_choice("conv", None, None, None)
    {'kind': 'conv'}
    """
    if encoder is None and finetune:  # a pretrained backbone: the config file's, or the default
        out_ft: dict[str, Any] = {"kind": "pretrained", "backbone_weights": weights}
        return {k: v for k, v in out_ft.items() if v is not None}
    if encoder is None:
        if with_state is False:
            return {"kind": "pretrained", "backbone": RECOMMENDED_BACKBONE}
        return {"kind": None} if weights is None else {"backbone_weights": weights}
    if encoder in ("state", "conv", "pretrained") or (encoder == "resnet18" and resnet_weights):
        out: dict[str, Any] = {"kind": encoder, "resnet_weights": resnet_weights}
        return {k: v for k, v in out.items() if v is not None}
    check_backbone_name(encoder)
    return {"kind": "pretrained", "backbone": encoder, "backbone_weights": weights}


def check_backbone_name(name: str) -> None:
    """Refuse, before any work, an `--encoder` that is neither a kind nor a known backbone.

    Raises:
        InputError: Naming the command line and `kind`, with the names it knows.
    """
    from robopref.errors import InputError
    from robopref.vision import BACKBONES

    if name in BACKBONES or name.startswith("open_clip:"):
        return
    known = ", ".join(["state", "conv", *BACKBONES, "open_clip:ARCH"])
    raise InputError("command line", "kind", f"{name!r} is not one of {known}")


@contextmanager
def _epoch_bar(*, enabled: bool = True) -> Iterator[tuple[Any, Any]]:
    """A bar over members × epochs whose text shows the member, loss and validation accuracy.

    Not `enabled` (a torchrun rank other than 0): nothing is shown.
    """
    from robopref.reward import EpochStats

    if not enabled:
        yield (lambda done, total: None), (lambda stats: None)
        return
    with Progress(
        TextColumn("[bold]training"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[stats]}"),
        TimeRemainingColumn(),
    ) as bar:
        task = bar.add_task("training", total=None, stats="")

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        def on_epoch(s: EpochStats) -> None:
            stats = (
                f"member {s.member + 1}/{s.n_members} epoch {s.epoch} "
                f"loss {s.loss:.3f} val {s.val_accuracy:.3f}"
            )
            bar.update(task, stats=stats)

        yield progress, on_epoch


def _encoder_name(encoder: EncoderConfig) -> str:
    return encoder.backbone if encoder.pretrained else encoder.kind

"""Trajectories per second scored by the image reward models, on CPU, ONNX Runtime and CUDA.

Inputs are synthetic, of the documented shape, and one batch is scored repeatedly, so decoding
is not part of any figure (frames come from the cache).

- `conv` / `resnet18` (from-scratch encoders): (batch, n_steps, image_size, image_size, 3)
  uint8 frames plus a (batch, 384) instruction embedding, as before.
- `pretrained` (a frozen `--backbone`, EfficientNet-Lite0 by default, shared by `--members`
  heads): (batch, frames, 1, frame_size, frame_size, 3) uint8 frames, the instruction
  embedding and each frame's elapsed time — what `RewardModel.score_inputs` and the ONNX graph
  read. Each figure is also given as a fraction of the bare backbone's throughput
  (`Backbone.forward` alone — resize, normalise, network — on the same frames, same device,
  measured in alternating rounds with the scoring, so load from other work hits both alike),
  with the time split into preprocessing, network, the members' heads and the rest
  (tensor conversion, input checks, host↔device copies, Python).

A figure stops after `--max-seconds` of timed work: on a small CPU it measures a prefix of
the `--trajectories` and extrapolates, and says so. The load average (what `uptime` prints)
is given beside each figure. On a CPU shared with other work, `--threads 1` is steadier (and
often faster) than torch's default: its thread barriers stall whenever a thread is preempted.

    .venv/bin/python bench/score_throughput.py                       # conv, then pretrained
    .venv/bin/python bench/score_throughput.py --encoder pretrained --input-size 128
    .venv/bin/python bench/score_throughput.py --encoder conv --members 3 --onnx
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from robopref.reward import EncoderConfig, RewardModel
from robopref.reward.ensemble import EnsembleNet
from robopref.reward.language import EMBED_DIM
from robopref.reward.model import build_net, spec_for
from robopref.reward.onnx import OPSET, export_onnx, feeds, random_inputs
from robopref.reward.pretrained import Frontend, backbone_for
from robopref.reward.score import ModelInputs
from robopref.vision import Backbone

CAMERA = "front"


# ---- models --------------------------------------------------------------------------------


def build(encoder: EncoderConfig, members: int) -> RewardModel:
    spec = spec_for(encoder, step_dim=0, language_dim=EMBED_DIM, camera=CAMERA)
    net = EnsembleNet([build_net(spec, seed=i) for i in range(members)])
    return RewardModel(net=net, spec=spec, task_embeddings={}, record={})


def build_pretrained(encoder: EncoderConfig, members: int) -> RewardModel:
    """A pretrained-backbone ensemble: the real frozen backbone, heads with random weights."""
    frontend = Frontend(backbone_for(encoder))
    spec = spec_for(
        encoder,
        step_dim=1,  # frame times: one column
        language_dim=EMBED_DIM,
        camera=CAMERA,
        cameras=(CAMERA,),
        feature_dim=frontend.backbone.feature_dim,
    )
    net = EnsembleNet([build_net(spec, seed=i) for i in range(members)], frontend)
    return RewardModel(net=net, spec=spec, task_embeddings={}, record={})


# ---- timing --------------------------------------------------------------------------------


def load() -> str:
    """The 1-minute load average, as `uptime` prints it."""
    return f"{os.getloadavg()[0]:.2f}"


def threads_text(n: int = 0) -> str:
    """`n` threads (torch's intra-op thread count by default), in words."""
    n = n or torch.get_num_threads()
    return f"{n} thread{'s' * (n != 1)}"


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@dataclass
class Rounds:
    """Seconds spent in each timed call over `n` rounds (one batch each)."""

    seconds: dict[str, list[float]] = field(default_factory=dict)
    n: int = 0
    load_before: str = ""
    load_after: str = ""

    def total(self, name: str) -> float:
        """Seconds in `name` over all rounds."""
        return sum(self.seconds[name])

    @property
    def elapsed(self) -> float:
        """Timed seconds so far, all calls."""
        return sum(sum(v) for v in self.seconds.values())


def run_rounds(
    calls: dict[str, Callable[[], object]],
    *,
    rounds: int,
    max_seconds: float,
    device: torch.device,
) -> Rounds:
    """Each call once per round, in turn, until `rounds` rounds or `max_seconds` of timed work.

    Alternating the calls round by round means load from other processes falls on all of them
    alike; every call is run once first, untimed (warm-up: allocator, oneDNN kernels, cuDNN).
    """
    for call in calls.values():
        call()
    sync(device)
    out = Rounds(seconds={name: [] for name in calls}, load_before=load())
    while out.n < rounds and (out.n == 0 or out.elapsed < max_seconds):
        for name, call in calls.items():
            sync(device)
            start = time.perf_counter()
            call()
            sync(device)
            out.seconds[name].append(time.perf_counter() - start)
        out.n += 1
    out.load_after = load()
    return out


def duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def coverage(done: int, wanted: int, seconds: float, rate: float) -> str:
    """What was measured: all `wanted` trajectories, or a prefix and the extrapolation."""
    if done >= wanted:
        return f"all {wanted:,} trajectories in {duration(seconds)}"
    return (
        f"a prefix: {done:,} of {wanted:,} trajectories in {duration(seconds)} "
        f"(--max-seconds); all {wanted:,} would take ~{duration(wanted / rate)} (extrapolated)"
    )


def batches_for(n: int, batch: int) -> int:
    return n // batch + bool(n % batch)


def autocast(device: torch.device, amp: bool) -> contextlib.AbstractContextManager[Any]:
    if amp and device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


# ---- conv / resnet18 (the figures this bench printed before the pretrained encoder) ---------


def throughput(
    model: RewardModel, *, n: int, batch: int, max_seconds: float, amp: bool = False
) -> tuple[float, str]:
    inputs = random_inputs(model, n=batch, seed=0)
    with autocast(model.device, amp):
        timed = run_rounds(
            {"score": lambda: model.score_inputs(inputs, batch_size=batch)},
            rounds=batches_for(n, batch),
            max_seconds=max_seconds,
            device=model.device,
        )
    seconds = timed.total("score")
    rate = timed.n * batch / seconds
    return rate, f"{coverage(timed.n * batch, n, seconds, rate)}; load {timed.load_after}"


def onnx_session(path: Path, providers: list[str], threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), options, providers=providers)


def onnx_throughput(
    model: RewardModel, *, n: int, batch: int, max_seconds: float, threads: int
) -> tuple[float, str]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.onnx"
        export_onnx(model, path)
        session = onnx_session(path, ["CPUExecutionProvider"], threads)
        given = feeds(random_inputs(model, n=batch, seed=0))
        timed = run_rounds(
            {"score": lambda: session.run(["reward"], given)},
            rounds=batches_for(n, batch),
            max_seconds=max_seconds,
            device=torch.device("cpu"),
        )
    seconds = timed.total("score")
    rate = timed.n * batch / seconds
    return rate, f"{coverage(timed.n * batch, n, seconds, rate)}; load {timed.load_after}"


def scratch_figures(args: argparse.Namespace, kind: str) -> None:
    encoder = EncoderConfig(kind=kind, **({"n_steps": args.frames} if args.frames else {}))
    members = args.members or 1
    batch = args.batch or 256
    model = build(encoder, members)
    shape = f"{encoder.n_steps}×{encoder.image_size}×{encoder.image_size}×3 uint8"
    print(f"{kind} image model, {members} member(s), inputs {shape}, n={args.trajectories:,}")
    common = {"n": args.trajectories, "batch": batch, "max_seconds": args.max_seconds}
    if "cpu" in args.devices:
        rate, note = throughput(model, **common)
        print(f"cpu ({threads_text()}): {rate:,.0f} trajectories/s  [{note}]")
        if args.onnx:
            rate, note = onnx_throughput(model, threads=args.threads, **common)
            print(f"onnxruntime cpu: {rate:,.0f} trajectories/s  [{note}]")
    if "cuda" in args.devices:
        model.to("cuda")
        name = torch.cuda.get_device_name()
        rate, note = throughput(model, **common)
        print(f"cuda fp32 ({name}): {rate:,.0f} trajectories/s  [{note}]")
        rate, note = throughput(model, amp=True, **common)
        print(f"cuda bf16 autocast ({name}): {rate:,.0f} trajectories/s  [{note}]")
        model.to("cpu")
    elif not torch.cuda.is_available():
        print("cuda: not available")


# ---- pretrained: scoring against the bare backbone ------------------------------------------


@dataclass(frozen=True)
class Batch:
    """One batch of `trajectories` × `frames` frames, as scoring and the bare backbone see it."""

    inputs: ModelInputs  # host arrays, as score_pool and score_inputs receive them
    frames: torch.Tensor  # (trajectories · frames, H, W, 3) uint8 on the device
    features: torch.Tensor  # the frontend's output on `frames`, for timing the heads alone
    task_embedding: torch.Tensor
    steps: torch.Tensor

    @property
    def n_trajectories(self) -> int:
        """Trajectories in the batch."""
        return len(self.inputs.x)

    @property
    def n_frames(self) -> int:
        """Frames in the batch (trajectories × frames × cameras)."""
        return len(self.frames)


def make_batch(model: RewardModel, batch: int, device: str) -> Batch:
    """A batch of random inputs; the model ends on `device` (inputs are drawn on the CPU)."""
    model.to("cpu")
    inputs = random_inputs(model, n=batch, seed=0)  # reads the members' CPU buffers
    model.to(device)
    frames = torch.from_numpy(inputs.x.reshape(-1, *inputs.x.shape[3:])).to(device)
    assert inputs.task_embedding is not None and inputs.steps is not None
    emb = torch.from_numpy(inputs.task_embedding).to(device)
    steps = torch.from_numpy(inputs.steps).to(device)
    frontend = model.net.frontend
    assert frontend is not None
    with torch.no_grad():
        features = frontend(torch.from_numpy(inputs.x).to(device))
    return Batch(inputs, frames, features, emb, steps)


def percent(part: float, whole: float) -> str:
    return f"{100 * part / whole:.0f}%"


def report(
    label: str,
    timed: Rounds,
    batch: Batch,
    *,
    wanted: int,
    parts: bool = True,
    reference: tuple[str, float] | None = None,
) -> float:
    """Print one figure: scoring rate, its fraction of the bare backbone, and the split.

    Rates come from the median batch time of each call over the rounds: on a shared machine
    other work comes in bursts that a mean would fold in. Returns the bare backbone's frames/s.
    """
    med = {name: statistics.median(values) for name, values in timed.seconds.items()}
    score, bare = med["score"], med["backbone"]
    traj_rate = batch.n_trajectories / score
    frame_rate = batch.n_frames / score
    bare_rate = batch.n_frames / bare
    ratios = sorted(
        b / s for b, s in zip(timed.seconds["backbone"], timed.seconds["score"], strict=True)
    )
    spread = ""
    if len(ratios) >= 4:
        q1, q3 = np.quantile(ratios, [0.25, 0.75])
        spread = f"; per-round ratio quartiles {100 * q1:.0f}–{100 * q3:.0f}%"
    print(
        f"{label}: {traj_rate:,.2f} trajectories/s ({frame_rate:,.1f} frames/s) = "
        f"{percent(frame_rate, bare_rate)} of the bare backbone's {bare_rate:,.1f} frames/s"
    )
    print(f"    same frames, alternating rounds, median of {timed.n} round(s){spread}")
    if reference is not None:
        name, rate = reference
        print(f"    = {percent(frame_rate, rate)} of {name}'s {rate:,.1f} frames/s")
    if parts:
        pre, heads = med["preprocess"], med["heads"]
        rest = score - bare - heads
        print(
            f"    per batch: scoring {1000 * score:,.1f} ms = backbone {1000 * bare:,.1f} ms"
            f" (of which preprocess {1000 * pre:,.1f} ms) + members' heads"
            f" {1000 * heads:,.2f} ms ({percent(heads, score)}) + the rest"
            f" {1000 * rest:+,.1f} ms ({percent(rest, score)})"
        )
    total = timed.total("score")
    print(
        f"    measured {coverage(timed.n * batch.n_trajectories, wanted, total, traj_rate)};"
        f" load {timed.load_before} → {timed.load_after} (uptime, 1 min)"
    )
    return bare_rate


def torch_figure(
    model: RewardModel, batch: Batch, args: argparse.Namespace, label: str, *, amp: bool = False
) -> float:
    """Scoring vs the bare backbone in PyTorch on the model's device; the backbone's frames/s."""
    frontend = model.net.frontend
    assert frontend is not None
    backbone = frontend.backbone
    n = batch.n_trajectories

    def bare() -> object:
        return backbone(batch.frames)

    def preprocess() -> object:
        return backbone.preprocess(batch.frames)

    def heads() -> object:
        return model.net(batch.features, batch.task_embedding, batch.steps)

    def score() -> object:
        return model.score_inputs(batch.inputs, batch_size=n)

    calls = {"backbone": bare, "score": score, "preprocess": preprocess, "heads": heads}
    with torch.no_grad(), autocast(model.device, amp):
        timed = run_rounds(
            calls,
            rounds=batches_for(args.trajectories, n),
            max_seconds=args.max_seconds,
            device=model.device,
        )
    return report(label, timed, batch, wanted=args.trajectories)


class _BareBackbone(nn.Module):
    def __init__(self, backbone: Backbone) -> None:
        super().__init__()
        self.backbone = backbone

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        features: torch.Tensor = self.backbone(frames)
        return features


def export_backbone(backbone: Backbone, frames: torch.Tensor, path: Path) -> None:
    """The bare backbone as an ONNX graph: (N, H, W, 3) uint8 → (N, F).

    Exported as the reward model is (dynamo, the same opset), the batch dimension dynamic.
    """
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            _BareBackbone(backbone).eval(),
            (frames[:2].cpu(),),
            str(path),
            input_names=["frames"],
            output_names=["features"],
            dynamic_shapes=({0: torch.export.Dim("batch")},),
            opset_version=OPSET,
            dynamo=True,
            external_data=False,
            verbose=False,
        )


def onnx_figure(
    model: RewardModel, batch: Batch, args: argparse.Namespace, torch_bare: float | None
) -> None:
    """The exported reward model under ONNX Runtime (CPU) vs the bare backbone exported alike."""
    frontend = model.net.frontend
    assert frontend is not None
    with tempfile.TemporaryDirectory() as tmp:
        full, bare = Path(tmp) / "model.onnx", Path(tmp) / "backbone.onnx"
        start = time.perf_counter()
        export_onnx(model, full)  # checks parity with PyTorch on 8 random inputs
        export_backbone(frontend.backbone, batch.frames, bare)
        exported = time.perf_counter() - start
        providers = ["CPUExecutionProvider"]
        scoring = onnx_session(full, providers, args.threads)
        backbone = onnx_session(bare, providers, args.threads)
        given = feeds(batch.inputs)
        frames = {"frames": batch.frames.cpu().numpy()}
        timed = run_rounds(
            {
                "backbone": lambda: backbone.run(["features"], frames),
                "score": lambda: scoring.run(["reward"], given),
            },
            rounds=batches_for(args.trajectories, batch.n_trajectories),
            max_seconds=args.max_seconds,
            device=torch.device("cpu"),
        )
    threads = threads_text(args.threads) if args.threads else "its default threads"
    report(
        f"onnxruntime cpu ({threads}; both exported in {duration(exported)})",
        timed,
        batch,
        wanted=args.trajectories,
        parts=False,
        reference=None if torch_bare is None else ("the PyTorch CPU bare backbone", torch_bare),
    )


def pretrained_figures(args: argparse.Namespace) -> None:
    frame_size = args.frame_size or args.input_size
    encoder = EncoderConfig(
        kind="pretrained",
        backbone=args.backbone,
        n_steps=args.frames or 16,
        input_size=args.input_size,
        image_size=frame_size,  # the stored frame size the random inputs are drawn at
    )
    members = args.members or 5
    model = build_pretrained(encoder, members)
    frontend = model.net.frontend
    assert frontend is not None
    size = frontend.backbone.input_size
    resize = "no resize" if frame_size == size else f"resized to {size}×{size} in the graph"
    print(
        f"pretrained {args.backbone} image model (input {size} px, "
        f"{frontend.backbone.feature_dim} features), {members} member(s) with random head "
        f"weights, inputs {encoder.n_steps}×1×{frame_size}×{frame_size}×3 uint8 ({resize}), "
        f"n={args.trajectories:,}"
    )
    torch_bare = None
    if "cpu" in args.devices:
        batch_size = args.batch or 4
        batch = make_batch(model, batch_size, "cpu")
        label = f"cpu ({threads_text()}, batch {batch_size} × {encoder.n_steps})"
        torch_bare = torch_figure(model, batch, args, label)
        if args.onnx is not False:
            onnx_figure(model, batch, args, torch_bare)
    if "cuda" in args.devices:
        name = torch.cuda.get_device_name()
        batch_size = args.batch or 64
        batch = make_batch(model, batch_size, "cuda")
        label = f"cuda fp32 ({name}, batch {batch_size} × {encoder.n_steps})"
        torch_figure(model, batch, args, label)
        torch_figure(model, batch, args, f"cuda bf16 autocast ({name})", amp=True)
        model.to("cpu")
    elif not torch.cuda.is_available():
        print("cuda: not available")


# ---- main ----------------------------------------------------------------------------------


def encoders(value: str) -> list[str]:
    kinds = [v.strip() for v in value.split(",") if v.strip()]
    for kind in kinds:
        if kind not in ("conv", "resnet18", "pretrained"):
            raise argparse.ArgumentTypeError(f"{kind!r}: one of conv, resnet18, pretrained")
    return kinds


def devices(value: str) -> list[str]:
    if value == "all":
        return ["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"]
    if value not in ("cpu", "cuda"):
        raise argparse.ArgumentTypeError(f"{value!r}: cpu, cuda or all")
    if value == "cuda" and not torch.cuda.is_available():
        raise argparse.ArgumentTypeError("cuda: not available")
    return [value]


@contextlib.contextmanager
def quiet_timm() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--encoder", type=encoders, default=["conv", "pretrained"],
        help="comma-separated: conv, resnet18, pretrained (default conv,pretrained)",
    )  # fmt: skip
    parser.add_argument(
        "--trajectories", "--n", type=int, default=10_000, help="trajectories to score"
    )
    parser.add_argument(
        "--max-seconds", type=float, default=60.0,
        help="timed seconds per figure; past them a prefix is measured and extrapolated",
    )  # fmt: skip
    parser.add_argument(
        "--batch", type=int, default=0,
        help="trajectories per forward pass (default: 256 conv; pretrained 4 CPU, 64 CUDA)",
    )  # fmt: skip
    parser.add_argument(
        "--members", type=int, default=0, help="ensemble members (default: 1 conv, 5 pretrained)"
    )
    parser.add_argument(
        "--frames",
        type=int,
        default=0,
        help="frames per trajectory (default: 32 conv, 16 pretrained)",
    )
    parser.add_argument(
        "--input-size",
        type=int,
        default=224,
        help="pretrained: the backbone's input side (224, 128, 64)",
    )
    parser.add_argument(
        "--frame-size", type=int, default=0,
        help="pretrained: side of the stored frames fed in (default: --input-size, no resize; "
        "480 for a default pool)",
    )  # fmt: skip
    parser.add_argument("--backbone", default="efficientnet_lite0", help="pretrained: backbone")
    parser.add_argument(
        "--device", dest="devices", type=devices, default="all", help="cpu, cuda or all (default)"
    )
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0 = the defaults)")
    parser.add_argument(
        "--onnx", action=argparse.BooleanOptionalAction, default=None,
        help="time ONNX Runtime on CPU (default: on for pretrained, off for conv)",
    )  # fmt: skip
    parser.add_argument("--no-cpu", action="store_true", help="skip the CPU figures")
    args = parser.parse_args()
    if args.no_cpu:
        args.devices = [d for d in args.devices if d != "cpu"]
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"load {load()} (uptime, 1 min) on {os.cpu_count()} CPUs; torch {torch.__version__}")
    for kind in args.encoder:
        with quiet_timm():
            if kind == "pretrained":
                pretrained_figures(args)
            else:
                scratch_figures(args, kind)


if __name__ == "__main__":
    main()

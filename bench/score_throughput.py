"""Trajectories per second scored by the image reward model, on CPU and (when present) CUDA.

Inputs are synthetic, of the documented shape: (batch, n_steps, image_size, image_size, 3)
uint8 frames plus a (batch, 384) instruction embedding. One batch is scored repeatedly until
`--n` trajectories are done, so decoding is not part of the figure (frames come from the cache).

    .venv/bin/python bench/score_throughput.py            # 10,000 trajectories, default model
    .venv/bin/python bench/score_throughput.py --members 3 --onnx
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
from pathlib import Path

import torch

from robopref.reward import EncoderConfig, RewardModel
from robopref.reward.ensemble import EnsembleNet
from robopref.reward.language import EMBED_DIM
from robopref.reward.model import build_net, spec_for
from robopref.reward.onnx import export_onnx, random_inputs


def build(encoder: EncoderConfig, members: int) -> RewardModel:
    spec = spec_for(encoder, step_dim=0, language_dim=EMBED_DIM, camera="front")
    net = EnsembleNet([build_net(spec, seed=i) for i in range(members)])
    return RewardModel(net=net, spec=spec, task_embeddings={}, record={})


def throughput(model: RewardModel, *, n: int, batch: int, amp: bool = False) -> float:
    inputs = random_inputs(model, n=batch, seed=0)
    cast = (
        torch.autocast("cuda", dtype=torch.bfloat16)
        if amp and model.device.type == "cuda"
        else contextlib.nullcontext()
    )
    with cast:
        model.score_inputs(inputs, batch_size=batch)  # warm-up
        start = time.perf_counter()
        for _ in range(0, n, batch):
            model.score_inputs(inputs, batch_size=batch)
        elapsed = time.perf_counter() - start
    return (n // batch + bool(n % batch)) * batch / elapsed


def onnx_throughput(model: RewardModel, *, n: int, batch: int) -> float:
    import onnxruntime as ort

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.onnx"
        export_onnx(model, path)
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        inputs = random_inputs(model, n=batch, seed=0)
        feeds = {"x": inputs.x, "task_embedding": inputs.task_embedding}
        session.run(["reward"], feeds)
        start = time.perf_counter()
        for _ in range(0, n, batch):
            session.run(["reward"], feeds)
        elapsed = time.perf_counter() - start
    return (n // batch + bool(n % batch)) * batch / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="trajectories to score")
    parser.add_argument("--batch", type=int, default=256, help="trajectories per forward pass")
    parser.add_argument("--members", type=int, default=1, help="ensemble members")
    parser.add_argument("--encoder", default="conv", help="conv (default) or resnet18")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's)")
    parser.add_argument("--onnx", action="store_true", help="also time ONNX Runtime on CPU")
    parser.add_argument("--no-cpu", action="store_true", help="skip the CPU figure")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    encoder = EncoderConfig(kind=args.encoder)
    model = build(encoder, args.members)
    shape = f"{encoder.n_steps}×{encoder.image_size}×{encoder.image_size}×3 uint8"
    print(f"{args.encoder} image model, {args.members} member(s), inputs {shape}, n={args.n}")
    if not args.no_cpu:
        rate = throughput(model, n=args.n, batch=args.batch)
        print(f"cpu ({torch.get_num_threads()} threads): {rate:,.0f} trajectories/s")
    if args.onnx:
        rate = onnx_throughput(model, n=args.n, batch=args.batch)
        print(f"onnxruntime cpu: {rate:,.0f} trajectories/s")
    if torch.cuda.is_available():
        model.to("cuda")
        name = torch.cuda.get_device_name()
        rate = throughput(model, n=args.n, batch=args.batch)
        print(f"cuda fp32 ({name}): {rate:,.0f} trajectories/s")
        rate = throughput(model, n=args.n, batch=args.batch, amp=True)
        print(f"cuda bf16 autocast ({name}): {rate:,.0f} trajectories/s")
    else:
        print("cuda: not available")


if __name__ == "__main__":
    main()

"""Seconds to score 10,000 trajectories and rank 100,000 candidate pairs for an active batch.

Synthetic trajectories (`robopref.testing.synthetic_trajectory`, state only, 4 tasks) and an
untrained state-encoder ensemble (EncoderConfig defaults: 32 steps, hidden 128, motion
features; `--members` members): timing does not depend on what the weights learned. Stages:

1. prepare: `RewardModel.inputs` (subsampled steps and motion features) for every trajectory;
2. score: (N, M) member rewards through PyTorch (`score_inputs`) and through ONNX Runtime
   (the release export, `robopref.reward.onnx.export_onnx`, parity-checked), batches of 256;
3. rank: `--candidates` random same-task pairs measured (`robopref.pairs.uncertainty`: gap
   in σ, member disagreement) and a diverse batch of `--batch` picked greedily;
4. with `--end-to-end`: the same trajectories written as a pool, `select_active` twice
   through an on-disk `ScoreCache` (the second call scores nothing).

`--selection` instead trains a small ensemble on 300 synthetic labels and judges one active
batch, one stratified batch and the pseudo-labels against the pool's truth.

CPU only unless `--cuda` (then PyTorch scoring is timed on the GPU as well). One thread by
default (`--threads`): on a shared CPU torch's thread barriers stall whenever a thread is
preempted. The load average is printed beside the figures.

    .venv/bin/python bench/active_scoring.py
    .venv/bin/python bench/active_scoring.py --trajectories 2000 --end-to-end
    .venv/bin/python bench/active_scoring.py --selection
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from robopref.pairs import ActiveConfig, PairsConfig, ScoreCache, select_active
from robopref.pairs.uncertainty import pick_diverse, uncertainty
from robopref.pool.trajectory import Trajectory
from robopref.reward import EncoderConfig, RewardModel
from robopref.reward.compat import input_dims, step_width
from robopref.reward.ensemble import EnsembleNet
from robopref.reward.model import build_net, spec_for
from robopref.reward.onnx import export_onnx, feeds
from robopref.testing import synthetic_trajectory

TASKS = ("reach the red target", "reach the blue target", "push the cube", "open the drawer")


def trajectories(n: int, n_steps: int, seed: int = 0) -> list[Trajectory]:
    """`n` synthetic state-only trajectories spread over TASKS, quality uniform in [0, 1]."""
    rng = np.random.default_rng(seed)
    return [
        synthetic_trajectory(
            f"t{i:06d}", quality=float(rng.random()), rng=rng, n_steps=n_steps,
            frame_size=None, task=TASKS[i % len(TASKS)],
        )
        for i in range(n)
    ]  # fmt: skip


def ensemble(first: Trajectory, members: int) -> RewardModel:
    """An untrained state ensemble of `members` networks fitting `first`'s widths."""
    enc = EncoderConfig(kind="state", language=False)
    dims = input_dims(first)
    width = step_width(enc, dims["state_dim"], dims["action_dim"])
    spec = spec_for(enc, step_dim=width, language_dim=0, camera=None)
    net = EnsembleNet([build_net(spec, seed=s) for s in range(members)])
    return RewardModel(net=net, spec=spec, task_embeddings={}, record={"data": dims})


def timed(label: str, work: Callable[[], Any]) -> tuple[Any, float]:
    """Run `work`, print its seconds, return its result and the seconds."""
    start = time.perf_counter()
    out = work()
    seconds = time.perf_counter() - start
    print(f"  {label}: {seconds:.2f} s  (load {os.getloadavg()[0]:.1f})")
    return out, seconds


def onnx_session(model: RewardModel, folder: Path, threads: int) -> Any:
    """Export `model` (parity-checked) and open it in ONNX Runtime on the CPU."""
    import onnxruntime as ort

    path = folder / "model.onnx"
    export_onnx(model, path)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def onnx_members(session: Any, inputs: Any, batch: int) -> np.ndarray:
    """(N, M) member rewards through an ONNX Runtime session, `batch` at a time."""
    given = feeds(inputs)
    out = [
        session.run(["member_rewards"], {k: v[s : s + batch] for k, v in given.items()})[0]
        for s in range(0, len(inputs.x), batch)
    ]
    return np.concatenate(out)


def rank(members: np.ndarray, tasks: np.ndarray, n_candidates: int, k: int) -> np.ndarray:
    """Measure `n_candidates` random same-task pairs and pick a diverse batch of `k`."""
    rng = np.random.default_rng(1)
    groups = [np.flatnonzero(tasks == t) for t in np.unique(tasks)]
    share = np.array([len(g) for g in groups]) / len(tasks)
    ia_parts, ib_parts = [], []
    for g, count in zip(groups, rng.multinomial(n_candidates, share), strict=True):
        i = rng.integers(0, len(g), count)
        j = (i + rng.integers(1, len(g), count)) % len(g)  # never i itself
        ia_parts.append(g[i])
        ib_parts.append(g[j])
    ia, ib = np.concatenate(ia_parts), np.concatenate(ib_parts)
    config = ActiveConfig(batch_size=k)
    mean = members.mean(axis=1)
    spread = {t: float(mean[tasks == t].std()) or 1.0 for t in np.unique(tasks)}
    sigma = np.array([spread[t] for t in tasks[ia]])
    measures = uncertainty(members, ia, ib, sigma, config)
    return pick_diverse(measures.priority, ia, ib, k, config)


def end_to_end(trajs: list[Trajectory], model: RewardModel, folder: Path) -> None:
    """Write a pool, then `select_active` twice through one on-disk cache."""
    from robopref.pool.pool import append_to_pool

    pool, _ = timed(f"write a pool of {len(trajs):,}", lambda: append_to_pool(folder / "p", trajs))
    ids = [f"ann-{i}" for i in range(5)]
    for attempt in ("first select_active (reads and scores)", "second select_active (cached)"):
        cache = ScoreCache("bench", folder / "cache")
        timed(attempt, lambda c=cache: select_active(
            pool, model, annotator_ids=ids, pairs_config=PairsConfig(), config=ActiveConfig(),
            cache=c,
        ))  # fmt: skip


def selection(folder: Path) -> None:
    """What the picks are worth: a trained ensemble's active batch and pseudo-labels vs truth.

    A 2-task × 200-trajectory synthetic pool, 300 bootstrap pairs from a B-Pref teacher (10 %
    mistakes) on `quality_score`, a 3-member state ensemble; then one active batch, one
    stratified batch of the same size, and the pseudo-labels, each judged against the truth.
    """
    from robopref.pairs import select_pairs
    from robopref.reward import TrainConfig, train_reward_model
    from robopref.teachers.pseudo import PseudoConfig, pseudo_label
    from robopref.testing import synthetic_preferences, tiny_pool

    pool = tiny_pool(folder / "sel", n=200, frame_size=None, tasks=TASKS[:2])
    truth = dict(zip(pool.manifest["trajectory_id"], pool.manifest["quality_score"], strict=True))
    boot = synthetic_preferences(pool, n_pairs=300, seed=0, epsilon=0.1)
    enc = EncoderConfig(kind="state", language=False, n_steps=16, hidden_dim=64, embed_dim=32)
    config = TrainConfig(encoder=enc, epochs=40, patience=10, ensemble_size=3, device="cpu")
    model, _ = timed("train a 3-member ensemble on 300 pairs", lambda: train_reward_model(
        boot, pool, config).model)  # fmt: skip
    labelled = list(zip(boot["trajectory_a_id"], boot["trajectory_b_id"], strict=True))
    ids = [f"ann-{i}" for i in range(5)]
    active = select_active(pool, model, annotator_ids=ids, labelled=labelled)
    strat = select_pairs(pool.manifest, PairsConfig(batch_size=100), annotator_ids=ids,
                         exclude=labelled)  # fmt: skip
    for name, batch in (("active", active), ("stratified", strat)):
        pairs = [p for p in batch.pairs if p.kind.value != "duplicate"]
        for kind in ("regular", "gold"):
            some = [p for p in pairs if p.kind.value == kind]
            if not some:
                continue
            gap = np.array([truth[p.trajectory_a_id] - truth[p.trajectory_b_id] for p in some])
            a = [pool[p.trajectory_a_id] for p in some]
            b = [pool[p.trajectory_b_id] for p in some]
            wrong = (model.prefer(a, b) >= 0.5) != (gap > 0)
            print(f"  {name} {kind} pairs: {len(some)}, mean |Δ true| {np.abs(gap).mean():.2f}, "
                  f"model wrong on {wrong.mean():.0%}")  # fmt: skip
    for tail in (0.2, 0.5):  # DROID's fifths; then halves, where the threshold has work to do
        result = pseudo_label(pool, model, labelled=labelled, config=PseudoConfig(tail_frac=tail))
        c = result.candidates
        pairs = zip(c["trajectory_a_id"], c["trajectory_b_id"], strict=True)
        right = (c["p_a"].to_numpy() >= 0.5) == (
            np.array([truth[a] - truth[b] for a, b in pairs]) > 0
        )
        kept = c["kept"].to_numpy()
        rejected = f"{right[~kept].mean():.3f}" if (~kept).any() else "-"
        print(f"  pseudo-labels, tails {tail:.0%}: {kept.sum()} kept of {len(c)}; accuracy vs "
              f"truth kept {right[kept].mean():.3f}, rejected {rejected}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trajectories", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=100, help="steps per trajectory")
    parser.add_argument("--members", type=int, default=5)
    parser.add_argument("--candidates", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=100, help="active pairs picked")
    parser.add_argument(
        "--threads", type=int, default=1, help="torch and ONNX Runtime threads (1 is steadiest "
        "on a shared CPU, where thread barriers stall)",
    )  # fmt: skip
    parser.add_argument("--cuda", action="store_true", help="also score on CUDA")
    parser.add_argument("--end-to-end", action="store_true")
    parser.add_argument(
        "--selection", action="store_true", help="only: active batch and pseudo-labels vs truth"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.selection:
        with tempfile.TemporaryDirectory() as tmp:
            selection(Path(tmp))
        return
    n = args.trajectories
    print(
        f"synthetic trajectories (state only, {args.steps} steps, {len(TASKS)} tasks), untrained "
        f"state ensemble of {args.members}; {args.threads} thread(s), {os.cpu_count()} cpus"
    )
    trajs, _ = timed(f"generate {n:,} trajectories", lambda: trajectories(n, args.steps))
    model = ensemble(trajs[0], args.members)
    inputs, t_prep = timed("prepare inputs (RewardModel.inputs)", lambda: model.inputs(trajs))
    members, t_torch = timed("score, PyTorch cpu", lambda: model.score_inputs(inputs))
    with tempfile.TemporaryDirectory() as tmp:
        session, _ = timed("ONNX export + parity check", lambda: onnx_session(
            model, Path(tmp), args.threads))  # fmt: skip
        onnx, t_onnx = timed("score, ONNX Runtime cpu", lambda: onnx_members(session, inputs, 256))
        print(f"  |ONNX − PyTorch| max {np.abs(onnx - members).max():.2e}")
        tasks = np.array([t.task for t in trajs])
        _, t_rank = timed(f"rank {args.candidates:,} candidates, pick {args.batch}",
                          lambda: rank(members, tasks, args.candidates, args.batch))  # fmt: skip
        if args.cuda and torch.cuda.is_available():
            model.to("cuda")
            model.score_inputs(inputs)  # warm-up
            _, t_cuda = timed("score, PyTorch cuda", lambda: model.score_inputs(inputs))
            print(f"cuda: {n / t_cuda:,.0f} trajectories/s ({torch.cuda.get_device_name()})")
            model.to("cpu")
        print(
            f"throughput: prepare {n / t_prep:,.0f}/s, PyTorch {n / t_torch:,.0f}/s, ONNX Runtime "
            f"{n / t_onnx:,.0f}/s trajectories; ranking {args.candidates / t_rank:,.0f} pairs/s"
        )
        torch_total, onnx_total = t_prep + t_torch + t_rank, t_prep + t_onnx + t_rank
        print(
            f"score {n:,} trajectories + rank {args.candidates:,} pairs: {torch_total:.1f} s "
            f"(PyTorch), {onnx_total:.1f} s (ONNX Runtime), load {os.getloadavg()[0]:.1f}"
        )
        if args.end_to_end:
            end_to_end(trajs, model, Path(tmp))


if __name__ == "__main__":
    main()

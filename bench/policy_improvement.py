"""Policy success: BC, best-of-N, KL-anchored fine-tuning, DPO, IQL and the loop's rounds.

For each task and seed: a state-only pool (every tier, BC checkpoints trained on 5 expert
demos); the reference policy is the fully trained BC checkpoint (`--reference`, 3), its σ
floored at `--min-std`. Round 0 of the loop rolls the reference out
(N sampled candidates per training placement) into the pool as a new tier; simulated
annotators (B-Pref teacher answering from the rubric's quality score, mistake rate ε) label
`--labels` pairs; an ensemble reward model is trained. Then, each evaluated by the mean
action on 60 held-out placements:

- bc: the reference; bc_final (with `--reference` 1 or 2): the last BC checkpoint;
- bon_learned / bon_oracle: best of N=8 sampled episodes per held-out placement, by the
  learned reward (mean − std) / by the simulator's return;
- ft_learned / ft_oracle: one KL-anchored advantage-weighted update on the round-0
  rollouts scored by the learned reward / by the simulator's return;
- dpo: CPL/DPO-style update straight from the labelled pairs (no reward model);
- iql_oracle: IQL on the pool + round-0 rollouts with the simulator's per-step reward;
- loop_r1..loop_rR: the loop's rounds (labels added every round).

Prints per method success (mean ± sd over seeds), the learned reward's share of the oracle's
gain, and the last loop round's gain over BC; writes results.json / rounds.csv to --out.

    MUJOCO_GL=egl .venv/bin/python bench/policy_improvement.py                  # 2 tasks × 3 seeds
    MUJOCO_GL=egl .venv/bin/python bench/policy_improvement.py --quick          # smoke run
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from safetensors.numpy import load_file

from robopref.campaign.loop_state import PolicyLoopConfig
from robopref.campaign.policy_loop import (
    run_rounds,
    simulated_labeler,
    start_loop,
    state_reward_trainer,
)
from robopref.policy.best_of_n import BestOfNConfig, best_of_n
from robopref.policy.dpo import DPOConfig, train_dpo
from robopref.policy.evaluate import evaluate_policy
from robopref.policy.finetune import FinetuneConfig, finetune
from robopref.policy.gaussian import GaussianPolicy
from robopref.policy.iql import IQLConfig, train_iql
from robopref.policy.rollouts import RolloutRunner, RolloutSettings
from robopref.policy.scorers import LearnedReward, OracleReward
from robopref.policy.transitions import build_transitions
from robopref.pool.config import GenerateConfig
from robopref.pool.generate.cached import cached_pool
from robopref.pool.generate.generator import POLICIES
from robopref.pool.pool import open_pool

POOL = GenerateConfig(
    experts=10,
    novices=10,
    checkpoints=3,
    per_checkpoint=6,
    scripted_failures=4,
    randoms=2,
    bc_demos=5,
    bc_steps=800,
    frames=False,
    workers=2,
)
"""Per task: 10 expert, 10 novice, 3×6 BC-checkpoint, 4 scripted, 2 random episodes; BC on 5
expert demos, so the fully trained checkpoint 3 is limited by its data, not its training."""


def run_task(
    task: str, seed: int, args: argparse.Namespace, runner: RolloutRunner
) -> dict[str, Any]:
    work = args.out / f"seed{seed}" / task
    base = cached_pool(work / "base", replace(POOL, tasks=(task,), seed=seed))
    loop_pool = work / "loop_pool"
    if loop_pool.exists():
        shutil.rmtree(loop_pool)  # this script's own scratch copy
    shutil.copytree(base.root, loop_pool, ignore=shutil.ignore_patterns(".cache", ".lock"))
    ckpt = loop_pool / POLICIES / f"bc-s{seed}" / task
    reference = GaussianPolicy(
        load_file(str(ckpt / f"checkpoint_{args.reference}.safetensors"))
    ).with_min_std(args.min_std)
    final = load_file(str(ckpt / f"checkpoint_{POOL.checkpoints}.safetensors"))
    test = tuple(range(30_000 + 1000 * seed, 30_000 + 1000 * seed + args.test))
    train = tuple(range(20_000 + 1000 * seed, 20_000 + 1000 * seed + args.train))
    config = PolicyLoopConfig(
        rounds=args.rounds,
        initial_labels=args.labels,
        labels_per_round=args.labels_per_round,
        candidates=BestOfNConfig(
            n=args.candidates, noise_scale=args.noise, noise_correlation=args.rho
        ),
        train_placements=train,
        test_placements=test,
        finetune=FinetuneConfig(
            steps=args.steps, kl_beta=args.beta, filter_top=args.filter_top or None
        ),
        seed=seed,
    )
    label = simulated_labeler(args.epsilon)
    fit = state_reward_trainer(seed=seed, ensemble_size=3, epochs=args.epochs)
    t0 = time.perf_counter()
    state = start_loop(runner, loop_pool, task, reference, config, label=label, train=fit)
    out: dict[str, Any] = {"task": task, "seed": seed, "labels0": len(state.preferences)}
    out["bc"] = state.records[0].success

    def success(weights: dict[str, np.ndarray]) -> float:
        ev, _ = evaluate_policy(runner, task, weights, test, reference=reference)
        return ev.success

    if args.reference < POOL.checkpoints:  # the "more BC" control
        out["bc_final"] = success(final)
    if "bon" in args.methods:
        res = best_of_n(
            runner,
            task,
            reference.weights(),
            test,
            OracleReward(),
            BestOfNConfig(n=8, noise_scale=args.noise, noise_correlation=args.rho, seed=seed),
        )
        flat = [t for c in res.candidates for t in c]
        learned = LearnedReward(state.model, 1.0).score(flat).reshape(res.scores.shape)
        out["bon_oracle"] = res.success
        out["bon_learned"] = float(
            np.mean(
                [c[int(i)].success for c, i in zip(res.candidates, learned.argmax(1), strict=True)]
            )
        )
        out["sampled"] = res.candidate_success
    if "ft" in args.methods:
        groups = np.array(state.groups)
        for name, scorer in (
            ("learned", LearnedReward(state.model, 1.0)),
            ("oracle", OracleReward()),
        ):
            ft = finetune(
                state.rollouts,
                scorer.score(state.rollouts),
                reference,
                replace(config.finetune, seed=seed),
                groups=groups,
            )
            out[f"ft_{name}"] = success(ft.policy.weights())
            out[f"ft_{name}_kl"] = ft.kl
    pool = open_pool(loop_pool)
    trajectories = {str(t): pool[str(t)] for t in pool.manifest["trajectory_id"]}
    if "dpo" in args.methods:
        res_dpo = train_dpo(state.preferences, trajectories, reference, DPOConfig(seed=seed))
        out["dpo"] = success(res_dpo.policy.weights())
    if "iql" in args.methods:
        trans = build_transitions(list(trajectories.values()))
        res_iql = train_iql(trans, reference, IQLConfig(seed=seed, steps=args.iql_steps))
        out["iql_oracle"] = success(res_iql.policy.weights())
    if "loop" in args.methods:
        records = run_rounds(
            state, runner, loop_pool, task, reference, config, label=label, train=fit
        )
        out["rounds"] = [r.as_dict() for r in records]
        for r in records[1:]:
            out[f"loop_r{r.round}"] = r.success
    out["seconds"] = time.perf_counter() - t0
    print(json.dumps({k: v for k, v in out.items() if k != "rounds"}), flush=True)
    return out


def summarise(results: list[dict[str, Any]], tasks: list[str]) -> None:
    keys = [
        "bc",
        "bc_final",
        "sampled",
        "bon_learned",
        "bon_oracle",
        "ft_learned",
        "ft_oracle",
        "dpo",
        "iql_oracle",
    ] + [f"loop_r{r}" for r in range(1, 10)]
    print(f"\n{'method':<14}" + "".join(f"{t:>22}" for t in tasks))
    for key in keys:
        cells = []
        for task in tasks:
            vals = [r[key] for r in results if r["task"] == task and key in r]
            cells.append(f"{np.mean(vals):.3f} ± {np.std(vals):.3f} ({len(vals)})" if vals else "")
        if any(cells):
            print(f"{key:<14}" + "".join(f"{c:>22}" for c in cells))
    for task in tasks:
        rows = [r for r in results if r["task"] == task]
        for kind in ("ft", "bon"):
            learned = [r[f"{kind}_learned"] - r["bc"] for r in rows if f"{kind}_learned" in r]
            oracle = [r[f"{kind}_oracle"] - r["bc"] for r in rows if f"{kind}_oracle" in r]
            if learned and np.mean(oracle) > 0:
                share = np.mean(learned) / np.mean(oracle)
                print(
                    f"{task} {kind}: learned gain {np.mean(learned):+.3f}, oracle gain "
                    f"{np.mean(oracle):+.3f}, learned recovers {share:.0%} (target ≥ 90%)"
                )
            elif learned:
                print(f"{task} {kind}: oracle gain {np.mean(oracle):+.3f} ≤ 0: share undefined")
        last = [max((k for k in r if k.startswith("loop_r")), default=None) for r in rows]
        gains = [r[k] - r["bc"] for r, k in zip(rows, last, strict=True) if k]
        if gains:
            print(f"{task} loop: last round − BC = {np.mean(gains):+.3f} (target ≥ +0.20)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", default="push-v3,pick-place-v3")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--first-seed", type=int, default=0, help="run seeds from this one")
    parser.add_argument("--methods", default="bon,ft,dpo,iql,loop")
    parser.add_argument("--reference", type=int, default=3, help="BC checkpoint (1..3) to improve")
    parser.add_argument("--min-std", type=float, default=0.05, help="floor of the policy's σ")
    parser.add_argument("--rho", type=float, default=0.9, help="AR(1) correlation of the noise")
    parser.add_argument("--labels", type=int, default=400, help="labels before the first update")
    parser.add_argument("--labels-per-round", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--candidates", type=int, default=4)
    parser.add_argument("--noise", type=float, default=1.0)
    parser.add_argument("--train", type=int, default=80, help="training placements")
    parser.add_argument("--test", type=int, default=60, help="held-out placements")
    parser.add_argument("--steps", type=int, default=3000, help="fine-tuning steps")
    parser.add_argument("--beta", type=float, default=0.05)
    parser.add_argument("--filter-top", type=float, default=0.25, help="0: AWR weights")
    parser.add_argument("--epsilon", type=float, default=0.1, help="annotator mistake rate")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--iql-steps", type=int, default=5000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("bench-out/policy"))
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.seeds, args.train, args.test, args.rounds, args.steps = 1, 10, 10, 2, 200
        args.labels, args.labels_per_round, args.epochs, args.iql_steps = 150, 50, 10, 300
        args.tasks = args.tasks.split(",")[0]
    args.methods = set(args.methods.split(","))
    logging.basicConfig(level=logging.WARNING)
    tasks = args.tasks.split(",")
    results = []
    with RolloutRunner(RolloutSettings(), workers=args.workers) as runner:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            for task in tasks:
                results.append(run_task(task, seed, args, runner))
                (args.out / "results.json").write_text(json.dumps(results, indent=1))
    rounds = [
        dict(task=r["task"], seed=r["seed"], **row) for r in results for row in r.get("rounds", [])
    ]
    pd.DataFrame(rounds).to_csv(args.out / "rounds.csv", index=False)
    summarise(results, tasks)


if __name__ == "__main__":
    main()

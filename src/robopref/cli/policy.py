"""`robopref policy best-of-n | finetune | evaluate`: use a reward model on a BC policy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from robopref.cli.progress import progress_bar
from robopref.errors import InputError

if TYPE_CHECKING:
    from robopref.policy.gaussian import GaussianPolicy
    from robopref.policy.rollouts import RolloutRunner
    from robopref.policy.scorers import TrajectoryScorer

policy_app = typer.Typer(
    help="Improve a BC policy with the reward: best-of-N, KL-anchored fine-tuning, evaluation.",
    no_args_is_help=True,
)

Pool = Annotated[Path, typer.Argument(help="Pool folder (its BC checkpoints are the references).")]
Task = Annotated[str, typer.Option(help="Meta-World task, e.g. push-v3.")]
Reward = Annotated[
    str, typer.Option(help="Reward-model checkpoint folder, or `oracle` (the simulator's return).")
]
Checkpoint = Annotated[
    int | None, typer.Option(help="The pool's BC checkpoint N to start from [the last].")
]
PolicyFile = Annotated[
    Path | None, typer.Option("--policy", help="A policy file instead (robopref policy finetune).")
]
MinStd = Annotated[float, typer.Option(help="Floor of the policy's σ (few-demo BC is too sure).")]
Placements = Annotated[int, typer.Option(help="Held-out placements evaluated.")]
FirstPlacement = Annotated[int, typer.Option(help="Env seed of the first held-out placement.")]
Workers = Annotated[int, typer.Option(help="Rollout worker processes [one per core].")]
Ray = Annotated[str | None, typer.Option(help="Run rollouts on Ray: `local`, `auto` or ray://…")]
K = Annotated[float, typer.Option("--k", help="Learned reward = ensemble mean − k·std.")]
Safety = Annotated[bool, typer.Option(help="Subtract the rule-based safety cost (seed 001).")]
Seed = Annotated[int, typer.Option(help="Seed of the sampled candidates.")]
Out = Annotated[Path | None, typer.Option(help="Write the report as JSON here.")]


@policy_app.command("best-of-n")
def best_of_n_command(
    pool: Pool,
    task: Task,
    reward: Reward = "oracle",
    n: Annotated[int, typer.Option(help="Candidates per placement.")] = 8,
    placements: Placements = 20,
    first_placement: FirstPlacement = 30_000,
    checkpoint: Checkpoint = None,
    policy: PolicyFile = None,
    min_std: MinStd = 0.05,
    noise: Annotated[float, typer.Option(help="Multiplies σ when sampling.")] = 1.0,
    k: K = 1.0,
    safety: Safety = False,
    seed: Seed = 0,
    workers: Workers = 0,
    ray: Ray = None,
    out: Out = None,
) -> None:
    """Sample N episodes per placement, keep the best-scored, and compare with the policy alone.

    Example: robopref policy best-of-n demo-output/pool --task reach-v3
    --reward demo-output/model --n 8 --placements 20
    """
    from robopref.policy.best_of_n import BestOfNConfig
    from robopref.policy.improve import best_of_n_report

    config = BestOfNConfig(n=n, noise_scale=noise, seed=seed)
    scorer = _scorer(reward, k=k, safety=safety)
    start = _start_policy(pool, task, checkpoint, policy, min_std)
    seeds = _seeds(first_placement, placements)
    with _runner(workers, ray) as runner, progress_bar(f"best-of-{n} rollouts") as progress:
        report = best_of_n_report(runner, task, start, scorer, seeds, config, progress=progress)
    typer.echo(
        f"{task}, {placements} held-out placements: policy alone {report.policy_success:.0%}, "
        f"sampled {report.sampled_success:.0%}, best-of-{n} by {report.scorer} "
        f"{report.best_of_n_success:.0%}"
    )
    _write(out, report.as_dict())


@policy_app.command("finetune")
def finetune_command(
    pool: Pool,
    task: Task,
    out: Annotated[Path, typer.Option(help="Policy file to write (.safetensors).")],
    reward: Reward = "oracle",
    candidates: Annotated[int, typer.Option(help="Sampled rollouts per training placement.")] = 4,
    train_placements: Annotated[int, typer.Option(help="Training placements.")] = 80,
    first_train_placement: Annotated[int, typer.Option(help="Env seed of the first.")] = 20_000,
    placements: Placements = 60,
    first_placement: FirstPlacement = 30_000,
    beta: Annotated[float, typer.Option(help="KL weight β (seed 001: 0.05–0.1).")] = 0.05,
    beta_final: Annotated[
        float | None, typer.Option(help="Anneal β geometrically to this (e.g. 0.001).")
    ] = None,
    steps: Annotated[int, typer.Option(help="Gradient steps.")] = 3000,
    filter_top: Annotated[
        float, typer.Option(help="Filtered BC: keep the best-scored fraction (0: AWR weights).")
    ] = 0.25,
    checkpoint: Checkpoint = None,
    policy: PolicyFile = None,
    min_std: MinStd = 0.05,
    k: K = 1.0,
    safety: Safety = False,
    add_to_pool: Annotated[
        bool, typer.Option(help="Add the rollouts to the pool as the next policy_checkpoint_N.")
    ] = False,
    seed: Seed = 0,
    workers: Workers = 0,
    ray: Ray = None,
) -> None:
    """One KL-anchored advantage-weighted update on the policy's own scored rollouts.

    Writes OUT (the policy) and OUT with `.json` (before/after on held-out placements).

    Example: robopref policy finetune pools/mw --task push-v3 --reward model
    --out push-ft.safetensors
    """
    from robopref.policy.best_of_n import BestOfNConfig
    from robopref.policy.files import save_policy
    from robopref.policy.finetune import FinetuneConfig
    from robopref.policy.improve import finetune_once
    from robopref.policy.to_pool import add_rollouts

    if out.suffix != ".safetensors" or out.is_dir():
        raise InputError(out, "--out", "must name a .safetensors file")
    config = FinetuneConfig(steps=steps, kl_beta=beta, kl_beta_final=beta_final,
                            filter_top=filter_top or None, seed=seed)  # fmt: skip
    cand = BestOfNConfig(n=candidates, seed=seed)
    scorer = _scorer(reward, k=k, safety=safety)
    reference = _start_policy(pool, task, checkpoint, policy, min_std)
    train = _seeds(first_train_placement, train_placements)
    test = _seeds(first_placement, placements)
    if set(train) & set(test):
        raise InputError("--first-placement", "placements", "held-out placements overlap training")
    with _runner(workers, ray) as runner, progress_bar("rollouts") as progress:
        result, report, rollouts = finetune_once(
            runner, task, reference, scorer, train_seeds=train, test_seeds=test,
            candidates=cand, config=config, progress=progress,
        )  # fmt: skip
    save_policy(result.policy, out, info={"task": task, "reward": reward, "origin": "finetune"})
    _write(out.with_suffix(".json"), report.as_dict())
    before, after = report.before, report.after
    typer.echo(
        f"{task}: success {before['success']:.0%} → {after['success']:.0%} on {placements} "
        f"held-out placements (KL to reference {after['kl_to_reference']:.3f}) → {out}"
    )
    if add_to_pool:
        _, source = add_rollouts(pool, rollouts)
        typer.echo(f"{len(rollouts)} rollouts added to {pool} as {source}")


@policy_app.command("evaluate")
def evaluate_command(
    pool: Pool,
    task: Task,
    checkpoint: Checkpoint = None,
    policy: PolicyFile = None,
    placements: Placements = 60,
    first_placement: FirstPlacement = 30_000,
    workers: Workers = 0,
    ray: Ray = None,
    out: Out = None,
) -> None:
    """Success, return and rubric quality of a policy's mean action on held-out placements."""
    from robopref.policy.evaluate import evaluate_policy

    start = _start_policy(pool, task, checkpoint, policy, 0.0)
    with _runner(workers, ray) as runner, progress_bar("evaluating") as progress:
        evaluation, _ = evaluate_policy(
            runner, task, start.weights(), _seeds(first_placement, placements), progress=progress
        )
    typer.echo(
        f"{task}: success {evaluation.success:.0%}, return {evaluation.mean_return:.1f}, "
        f"quality {evaluation.mean_quality:.2f} over {evaluation.episodes} placements"
    )
    _write(out, evaluation.as_dict())


def _seeds(first: int, count: int) -> tuple[int, ...]:
    if count < 1:
        raise InputError("--placements", "placements", f"must be >= 1, got {count}")
    if first < 0:
        raise InputError("--first-placement", "placements", f"must be >= 0, got {first}")
    return tuple(range(first, first + count))


def _start_policy(
    pool_path: Path, task: str, checkpoint: int | None, policy: Path | None, min_std: float
) -> GaussianPolicy:
    import robopref.pool as rp
    from robopref.policy.files import load_policy, reference_path
    from robopref.sim import task_spec

    task_spec(task)  # an unknown task fails here, naming it
    if min_std < 0:
        raise InputError("--min-std", "min_std", f"must be >= 0, got {min_std}")
    if policy is not None and checkpoint is not None:
        raise InputError("--policy", "policy", "give --policy or --checkpoint, not both")
    path = policy or reference_path(rp.open(pool_path), task, checkpoint=checkpoint)
    loaded = load_policy(path)
    return loaded.with_min_std(min_std) if min_std > 0 else loaded


def _scorer(reward: str, *, k: float, safety: bool) -> TrajectoryScorer:
    from robopref.policy.scorers import LearnedReward, OracleReward, SafetyPenalty, WithSafety

    base: TrajectoryScorer
    if reward == "oracle":
        base = OracleReward()
    else:
        import robopref.reward as rr

        model = rr.load(Path(reward))
        if model.spec.encoder.uses_frames:
            raise InputError(
                Path(reward) / "config.json", "encoder.kind",
                f"{model.spec.encoder.kind!r} reads frames; policy rollouts are state-only "
                "(use a state model, or --reward oracle)",
            )  # fmt: skip
        base = LearnedReward(model, k)
    return WithSafety(base, SafetyPenalty()) if safety else base


def _runner(workers: int, ray: str | None) -> RolloutRunner:
    from robopref.policy.rollouts import RolloutRunner, RolloutSettings

    if workers < 0:
        raise InputError("--workers", "workers", f"must be >= 0, got {workers}")
    return RolloutRunner(RolloutSettings(), workers=workers, ray_address=ray)


def _write(path: Path | None, report: dict[str, object]) -> None:
    if path is None:
        return
    from robopref.atomic import write_text_atomic

    write_text_atomic(path, json.dumps(report, indent=1) + "\n")
    typer.echo(f"report → {path}")

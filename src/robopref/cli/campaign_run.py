"""`robopref campaign run`: the resumable policy-improvement loop, per task, with its report."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from robopref.cli.config_file import build_config
from robopref.errors import InputError

if TYPE_CHECKING:

    from robopref.campaign.loop_state import PolicyLoopConfig, RoundRecord
    from robopref.policy.gaussian import GaussianPolicy
    from robopref.pool.pool import Pool

RUN_KIND = "policy-campaign"
"""The `robopref.outputs` kind of a `campaign run --out` folder."""


class Annotators(StrEnum):
    """Who labels the loop's pairs."""

    simulated = "simulated"


@dataclass(frozen=True, kw_only=True)
class PolicyRunConfig:
    """Settings of `robopref campaign run` (a `--config` YAML holds these fields)."""

    tasks: tuple[str, ...] = ()
    """Meta-World env names; empty: every task of the pool."""
    rounds: int = 3
    """Policy updates after the reference."""
    labels: int = 400
    """Pairs labelled before the first update."""
    labels_per_round: int = 150
    """Pairs labelled after each round's rollouts (none after the last)."""
    reference_checkpoint: int | None = None
    """BC checkpoint N of the pool to start from and anchor to; None: the highest."""
    min_std: float = 0.05
    """Floor of the reference policy's σ (BC fits a few demos to σ ≈ 0.002–0.01)."""
    annotators: Annotators = Annotators.simulated
    """Simulated annotators answer from the rubric's quality score."""
    epsilon: float = 0.1
    """Simulated annotators' mistake rate."""
    candidates: int = 4
    """Sampled rollouts per training placement, each round."""
    noise_scale: float = 1.0
    """Multiplies the policy's σ when sampling candidates."""
    noise_correlation: float = 0.9
    """AR(1) correlation of the candidates' action noise (0: independent per step)."""
    train_placements: int = 40
    """Env placements the rollouts start from."""
    test_placements: int = 60
    """Held-out placements of the evaluation."""
    steps: int = 1500
    """Fine-tuning steps per round."""
    kl_beta: float = 0.05
    """KL weight to the reference."""
    uncertainty_k: float = 1.0
    """Learned reward = ensemble mean − k · std."""
    ensemble_size: int = 3
    """Reward-model members."""
    epochs: int = 30
    """Reward-model epochs."""
    max_steps: int = 120
    """Step limit of an episode."""
    device: str = "cpu"
    """Where the reward model trains: `cpu`, `cuda[:N]` or `auto`."""
    seed: int = 0
    """Seeds placements, candidates, labels and training."""

    def __post_init__(self) -> None:
        for name in ("rounds", "labels", "candidates", "train_placements", "test_placements"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name}: must be >= 1, got {getattr(self, name)}")
        if self.labels_per_round < 0:
            raise ValueError(f"labels_per_round: must be >= 0, got {self.labels_per_round}")
        if not 0.0 <= self.epsilon <= 1.0:
            raise ValueError(f"epsilon: must lie in [0, 1], got {self.epsilon}")
        if not self.min_std > 0:
            raise ValueError(f"min_std: must be > 0, got {self.min_std}")

    def loop_config(self) -> PolicyLoopConfig:
        """The loop's settings for one task."""
        from robopref.campaign.loop_state import PolicyLoopConfig
        from robopref.policy.best_of_n import BestOfNConfig
        from robopref.policy.finetune import FinetuneConfig

        offset = 1000 * self.seed
        return PolicyLoopConfig(
            rounds=self.rounds,
            initial_labels=self.labels,
            labels_per_round=self.labels_per_round,
            candidates=BestOfNConfig(
                n=self.candidates,
                noise_scale=self.noise_scale,
                noise_correlation=self.noise_correlation,
            ),
            train_placements=tuple(range(20_000 + offset, 20_000 + offset + self.train_placements)),
            test_placements=tuple(range(30_000 + offset, 30_000 + offset + self.test_placements)),
            uncertainty_k=self.uncertainty_k,
            finetune=FinetuneConfig(steps=self.steps, kl_beta=self.kl_beta),
            seed=self.seed,
        )


def run(
    pool: Annotated[Path, typer.Argument(help="Pool folder (it grows by one tier a round).")],
    task: Annotated[
        list[str] | None, typer.Option("--task", help="Task (repeat); default every task.")
    ] = None,
    out: Annotated[Path, typer.Option(help="Work folder (a new one, or a run to resume).")] = Path(
        "campaign-run"
    ),
    rounds: Annotated[int | None, typer.Option(help="Policy updates [3].")] = None,
    labels: Annotated[
        int | None, typer.Option(help="Labels before the first update [400].")
    ] = None,
    labels_per_round: Annotated[
        int | None, typer.Option(help="Labels after each round's rollouts [150].")
    ] = None,
    reference_checkpoint: Annotated[
        int | None,
        typer.Option(help="BC checkpoint N of the pool to improve (default: the highest)."),
    ] = None,
    min_std: Annotated[float | None, typer.Option(help="σ floor of the reference [0.05].")] = None,
    annotators: Annotated[
        Annotators | None, typer.Option(help="Who labels the pairs (default: simulated).")
    ] = None,
    epsilon: Annotated[
        float | None, typer.Option(help="Simulated annotators' mistake rate [0.1].")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the whole run [0].")] = None,
    workers: Annotated[int, typer.Option(help="Rollout worker processes (0: one a core).")] = 2,
    ray: Annotated[
        str | None, typer.Option("--ray", help="Run rollouts on Ray (local, auto, ray://…).")
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="YAML of run fields (candidates, steps, epochs, ...)."),
    ] = None,
) -> None:
    """Run the policy-improvement loop for K rounds per task, resumable, with a report.

    Round 0 rolls the pool's BC reference out (candidates per training placement) into
    the pool as a new policy_checkpoint_N tier, labels --labels pairs and trains the
    reward model. Each round then fine-tunes the policy (KL-anchored, on every rollout so
    far scored by the learned reward), evaluates it on held-out placements, rolls it out
    into the pool as the next tier, labels --labels-per-round new pairs and retrains.
    POOL grows by one tier per task and round (it must be writable).

    Labels come from simulated annotators (B-Pref teacher on the rubric's quality score,
    mistake rate --epsilon). People in the web app label through `robopref serve`
    batches, which this command does not drive.

    --out keeps one folder per task and round (round-NN/: policy, preferences, reward
    checkpoint, record). It must be absent, empty or an earlier run of this command:
    rerunning the same command skips finished rounds and resumes after a crash, reusing
    a tier the crashed round already added. --out gets report.json and report.html
    (labels, annotator hours, reward accuracy and ρ, hacking probe, success, return, KL,
    wall/CPU hours; plots embedded).

    Example: robopref campaign run pool --task push-v3 --out loop --rounds 3 --labels 400
    """
    from robopref.outputs import check_output_dir, mark_output_dir
    from robopref.pool.pool import open_pool

    cfg = build_config(
        PolicyRunConfig, config, tasks=None if not task else tuple(task), rounds=rounds,
        labels=labels, labels_per_round=labels_per_round,
        reference_checkpoint=reference_checkpoint, min_std=min_std,
        annotators=None if annotators is None else annotators.value, epsilon=epsilon, seed=seed,
    )  # fmt: skip
    check_output_dir(out, RUN_KIND, option="--out")  # before the pool is read
    opened = open_pool(pool)
    known = sorted(set(opened.manifest["env_id"]))
    tasks = cfg.tasks or tuple(known)
    unknown = [t for t in tasks if t not in known]
    if unknown:
        raise InputError(pool, "--task", f"no trajectories of {unknown}; the pool has {known}")
    references = {
        t: _reference(opened, t, cfg.reference_checkpoint).with_min_std(cfg.min_std) for t in tasks
    }
    mark_output_dir(out, RUN_KIND)
    with _held(out):
        _run_tasks(pool, out, tasks, references, cfg, workers=workers, ray=ray)


def _run_tasks(
    pool: Path,
    out: Path,
    tasks: tuple[str, ...],
    references: dict[str, GaussianPolicy],
    cfg: PolicyRunConfig,
    *,
    workers: int,
    ray: str | None,
) -> None:
    """Each task's loop in `out/<task>`, printing its rounds; the report after each task."""
    from robopref.campaign.loop_work import read_records
    from robopref.campaign.policy_loop import (
        run_policy_loop,
        simulated_labeler,
        state_reward_trainer,
    )
    from robopref.policy.rollouts import RolloutRunner, RolloutSettings

    loop = cfg.loop_config()
    settings = {"pool": str(pool.resolve()), **_jsonable(asdict(cfg)), "workers": workers}
    records: dict[str, list[RoundRecord]] = {t: read_records(out / t) for t in tasks}
    for t, done in records.items():
        for record in done:
            typer.echo(_line(t, record, note=" (finished earlier)"))
    title = f"campaign run: {', '.join(tasks)} on {pool.name}"
    with RolloutRunner(
        RolloutSettings(max_steps=cfg.max_steps, seed=cfg.seed), workers=workers, ray_address=ray
    ) as runner:
        label = simulated_labeler(cfg.epsilon)
        train = state_reward_trainer(
            seed=cfg.seed, ensemble_size=cfg.ensemble_size, epochs=cfg.epochs, device=cfg.device
        )
        for t in tasks:

            def echo(record: RoundRecord, t: str = t) -> None:
                typer.echo(_line(t, record))

            records[t] = run_policy_loop(
                runner, pool, t, references[t], loop, label=label, train=train,
                work=out / t, on_round=echo,
            )  # fmt: skip
            _write(records, out, title, settings)
    json_path, html_path = _write(records, out, title, settings)
    typer.echo(f"report → {json_path}, {html_path}")


LOCK_FILE = ".campaign-run.lock"
"""Held (flock) by the run writing a work folder, so that a second run is refused."""


@contextmanager
def _held(out: Path) -> Iterator[None]:
    """Hold `out`'s run lock for the body.

    Raises:
        InputError: Another live run holds it.
    """
    handle = os.open(out / LOCK_FILE, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            raise InputError(
                out, "--out", "another `robopref campaign run` is writing this folder now"
            ) from exc
        yield
    finally:
        os.close(handle)


def _write(
    records: dict[str, list[RoundRecord]], out: Path, title: str, settings: dict[str, Any]
) -> tuple[Path, Path]:
    from robopref.campaign.policy_report import write_report

    return write_report(records, out, title=title, settings=settings)


def _line(task: str, r: RoundRecord, *, note: str = "") -> str:
    def fmt(value: float | None, form: str) -> str:
        return "–" if value is None else format(value, form)

    return (
        f"{task} round {r.round}: {r.labels} labels ({r.annotator_hours:.1f} annotator h), "
        f"reward acc {fmt(r.reward_pair_accuracy, '.3f')} ρ {fmt(r.reward_spearman, '.3f')}, "
        f"success {r.success:.3f}, return {r.mean_return:.1f}, "
        f"KL {fmt(r.kl_to_reference, '.4f')}, tier {r.tier or '–'}{note}"
    )


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else str(v) if isinstance(v, StrEnum) else v
            for k, v in values.items()}  # fmt: skip


def _reference(pool: Pool, task: str, checkpoint: int | None) -> GaussianPolicy:
    """The pool's BC checkpoint `checkpoint` (None: the highest) of `task` as a policy.

    Raises:
        InputError: Naming --reference-checkpoint when the pool lacks it.
    """
    from robopref.policy.files import load_policy, reference_path

    try:
        return load_policy(reference_path(pool, task, checkpoint=checkpoint))
    except InputError as exc:
        raise InputError(exc.path, "--reference-checkpoint", f"{exc.field}: {exc.message}") from exc

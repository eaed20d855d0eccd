"""The demo pipeline: every stage, on embedded defaults, into one output folder.

`DIR/pool/` (with `clips/`), `DIR/robopref.db`, `DIR/qa/`, `DIR/model/`, `DIR/validation/`,
`DIR/release/` — the layout of the public contract (docs/design.md, "Demo output").
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from robopref import __version__
from robopref.campaign.config import CampaignConfig
from robopref.outputs import claim_output_dir
from robopref.pairs.config import PairsConfig
from robopref.pool.config import GenerateConfig
from robopref.progress import ProgressCallback, no_progress
from robopref.release.config import ReleaseConfig
from robopref.render.config import RenderConfig
from robopref.reward.config import TrainConfig
from robopref.validate.config import ValidateConfig

if TYPE_CHECKING:
    from robopref.policy.improve import BestOfNReport

logger = logging.getLogger(__name__)

OUTPUTS = (
    "pool",
    "robopref.db",
    "robopref.db-wal",
    "robopref.db-shm",
    "qa",
    "model",
    "validation",
    "release",
    "policy",
    "config.json",
)
STAGES = (
    "pool", "clips", "campaign", "reward model", "active round", "validation", "release",
    "policy",
)  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class DemoConfig:
    """What `robopref demo` runs, stage by stage."""

    generate: GenerateConfig = field(default_factory=lambda: GenerateConfig(cameras=("corner",)))
    """The simulated Meta-World pool; the external camera only (the gripper camera doubles
    render and encode time, and clips and the reward model use the external one)."""
    render: RenderConfig = field(default_factory=RenderConfig)
    """Review clips."""
    campaign: CampaignConfig = field(default_factory=CampaignConfig)
    """Simulated calibration, production batch and QA."""
    train: TrainConfig = field(default_factory=TrainConfig)
    """The reward model."""
    active_pairs: int = 60
    """Pairs of the one active round (where the first model is least sure); the model is
    then retrained on both batches."""
    validate: ValidateConfig = field(default_factory=ValidateConfig)
    """The validation report."""
    release: ReleaseConfig = field(default_factory=ReleaseConfig)
    """The release package."""
    policy_candidates: int = 4
    """The closing best-of-N round: candidates per placement, with the demo's reward model."""
    policy_placements: int = 10
    """Held-out placements of that round (on the pool's first task)."""

    @classmethod
    def toy(cls) -> DemoConfig:
        """A toy-size demo for the end-to-end test: 2 tasks, short episodes, small frames."""
        return cls(
            generate=replace(
                GenerateConfig(),
                tasks=("reach-v3", "button-press-topdown-v3"),
                experts=3,
                novices=3,
                checkpoints=1,
                per_checkpoint=2,
                scripted_failures=2,
                randoms=2,
                bc_demos=3,
                max_steps=90,
                image_size=96,
            ),
            render=replace(RenderConfig(), width=96, height=96, font_size=8),
            campaign=replace(
                CampaignConfig(), pairs=PairsConfig(batch_size=40, calibration_size=8)
            ),
            train=replace(TrainConfig(), epochs=20, ensemble_size=2),
            active_pairs=10,
            policy_candidates=2,
            policy_placements=3,
        )


@dataclass(frozen=True)
class DemoResult:
    """Where the demo put its outputs."""

    pool: Path
    store_url: str
    qa: Path
    model: Path
    validation: Path
    release: Path
    summary: dict[str, object]


class _Stages:
    """Times each stage and reports `(stages done, stages)` to the progress callback."""

    def __init__(self, progress: ProgressCallback) -> None:
        self.progress = progress
        self.seconds: dict[str, float] = {}
        self._start = time.perf_counter()

    def done(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = round(now - self._start, 1)
        self._start = now
        logger.info("demo: %s done in %.1f s", name, self.seconds[name])
        self.progress(len(self.seconds), len(STAGES))


OUTPUT_KIND = "demo"
"""The `robopref.outputs` kind of a demo folder."""


def _is_demo_folder(folder: Path) -> bool:
    """A demo folder written before output markers existed."""
    return (folder / "config.json").is_file() and (folder / "pool" / "manifest.parquet").is_file()


def _clear(out: Path, config: DemoConfig) -> None:
    """Claim `out`, remove an earlier demo's outputs there, and record this run's config.

    Raises:
        InputError: `out` is a file or a folder that robopref did not write as a demo.
    """
    claim_output_dir(out, OUTPUT_KIND, recognise=_is_demo_folder)
    for name in OUTPUTS:
        target = out / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    out.mkdir(parents=True, exist_ok=True)
    record = {"robopref_version": __version__, "config": asdict(config)}
    (out / "config.json").write_text(json.dumps(record, indent=1, default=str))


def run_demo(
    config: DemoConfig, out: Path, *, progress: ProgressCallback = no_progress
) -> DemoResult:
    """Run every stage into `out`, replacing an earlier demo's outputs there.

    `out` must be absent, empty or an earlier demo folder (`robopref.outputs`); it is
    checked before any stage is loaded.
    """
    _clear(out, config)
    from robopref.campaign import run_simulated_campaign
    from robopref.campaign.active_round import run_active_round
    from robopref.pool import open as open_pool
    from robopref.pool.generate import generate_pool
    from robopref.quality.kappa import CertificationStep
    from robopref.release import ReleaseInputs, build_release
    from robopref.render import render_pool
    from robopref.reward import train_reward_model
    from robopref.store import open_store
    from robopref.validate import run_validation

    stages = _Stages(progress)
    pool_dir, store_url = out / "pool", f"sqlite:///{out / 'robopref.db'}"
    generate_pool(config.generate, pool_dir)
    stages.done("pool")
    clips = render_pool(pool_dir, config.render)
    stages.done("clips")
    store = open_store(store_url)
    try:
        pool = open_pool(pool_dir)
        campaign = run_simulated_campaign(store, pool.manifest, config.campaign, out_dir=out / "qa")
        stages.done("campaign")
        first = train_reward_model(campaign.qa.preference_files.parquet, pool_dir, config.train)
        stages.done("reward model")
        certified = campaign.certification["step"] == CertificationStep.CERTIFIED.value
        active = run_active_round(
            store, pool, first.model, config.campaign, batch_size=config.active_pairs,
            annotator_ids=sorted(campaign.certification.loc[certified, "annotator_id"]),
            out_dir=out / "qa",
        )  # fmt: skip
    finally:
        store.dispose()
    preferences = active.qa.preference_files.parquet  # both batches: QA replaced its folder
    trained = train_reward_model(preferences, pool_dir, config.train, out=out / "model")
    stages.done("active round")
    report = run_validation(pool_dir, out / "validation", model=out / "model",
                            preferences=preferences, config=config.validate)  # fmt: skip
    stages.done("validation")
    inputs = ReleaseInputs(preferences=preferences, pool=pool_dir, model=out / "model",
                           store_url=store_url, qa_report=out / "qa",
                           validation=out / "validation")  # fmt: skip
    release = build_release(inputs, out / "release", config.release)
    stages.done("release")
    policy = _best_of_n_round(config, pool_dir, out / "model", out / "policy")
    stages.done("policy")
    distribution = report.distribution
    quality = distribution.correlations.get("quality_score")
    summary = {
        "trajectories": report.n_trajectories,
        "clips": len(clips.rendered) + len(clips.skipped),
        "flagged_annotators": active.qa.report.summary["flagged"],
        "preferences": len(active.qa.preferences),
        "active_pairs": len(active.batch.pairs),
        "first_model_test_accuracy": first.metrics.get("test_accuracy"),
        "test_accuracy": trained.metrics.get("test_accuracy"),
        "spearman_vs_quality": None if quality is None else quality.rho,
        "expert_vs_random_auc": (
            None if distribution.expert_vs_random is None else distribution.expert_vs_random.auc
        ),
        "hacking_flags": [p.name for p in report.probes if p.flagged],
        "policy_task": policy.task,
        "policy_success_bc": policy.policy_success,
        "policy_success_best_of_n": policy.best_of_n_success,
        "stage_seconds": stages.seconds,
        "archive": str(release.archive),
    }
    return DemoResult(pool_dir, store_url, out / "qa", out / "model", out / "validation",
                      release.folder, summary)  # fmt: skip


def _best_of_n_round(
    config: DemoConfig, pool_dir: Path, model_dir: Path, out: Path
) -> BestOfNReport:
    """The loop closing once: the pool's last BC checkpoint, best-of-N by the demo's model."""
    import robopref.reward as rr
    from robopref.atomic import write_text_atomic
    from robopref.policy.best_of_n import BestOfNConfig
    from robopref.policy.files import load_policy, reference_path
    from robopref.policy.improve import best_of_n_report
    from robopref.policy.rollouts import RolloutRunner, RolloutSettings
    from robopref.policy.scorers import LearnedReward
    from robopref.pool import open as open_pool

    task = config.generate.tasks[0]
    reference = load_policy(reference_path(open_pool(pool_dir), task)).with_min_std(0.05)
    settings = RolloutSettings(
        max_steps=config.generate.max_steps, settle_steps=config.generate.settle_steps
    )
    seeds = tuple(range(30_000, 30_000 + config.policy_placements))
    scorer = LearnedReward(rr.load(model_dir), k=1.0)
    with RolloutRunner(settings, workers=config.generate.workers) as runner:
        report = best_of_n_report(
            runner, task, reference, scorer, seeds, BestOfNConfig(n=config.policy_candidates)
        )
    write_text_atomic(out / "best_of_n.json", json.dumps(report.as_dict(), indent=1) + "\n")
    return report


DEMO_ADMIN = "admin"
"""The demo store's admin account (the dashboard at /admin)."""
DEMO_ANNOTATOR = "you"
"""A fresh annotator in the demo store, holding the first calibration set."""


@dataclass(frozen=True)
class DemoAccounts:
    """Login tokens for trying the demo's campaign in a browser (`robopref serve`)."""

    admin_token: str
    annotator_token: str
    calibration_batch_id: str | None
    """The calibration set the annotator is served first."""


def invite_demo_accounts(store_url: str) -> DemoAccounts:
    """Create (or re-token) `admin` and a fresh annotator `you` with the first calibration set.

    Raises:
        InputError: The store cannot be opened.
    """
    from robopref.campaign import invite_annotator
    from robopref.store import Role, open_store

    store = open_store(store_url, existing=True)
    try:
        admin = invite_annotator(store, DEMO_ADMIN, role=Role.ADMIN, reissue=True)
        you = invite_annotator(store, DEMO_ANNOTATOR, reissue=True)
    finally:
        store.dispose()
    return DemoAccounts(admin.token, you.token, you.calibration_batch_id)

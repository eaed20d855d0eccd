"""The label-efficiency loop: select → label → QA → train → evaluate, until the human budget.

Each round draws pairs by the strategy (the first round is a stratified bootstrap, except for
`random`), has the simulated people answer them through the store exactly as in production
(several per pair, QA's majority vote), adds AI labels or pseudo-labels where the strategy
says, retrains the reward model on everything so far, and scores it on held-out
trajectories against the truth the people answered from.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import pandas as pd

from robopref.campaign.ai_round import ai_round
from robopref.campaign.heldout import HeldOut, held_out_scores, split_held_out
from robopref.campaign.loop_config import LoopConfig, Strategy
from robopref.errors import InputError
from robopref.pairs import select_pairs
from robopref.pairs.active import select_active
from robopref.pairs.config import ActiveConfig, PairsConfig
from robopref.pairs.records import PairBatch
from robopref.pairs.scores import ScoreCache
from robopref.pairs.uniform import select_uniform_pairs
from robopref.pool.pool import Pool
from robopref.progress import ProgressCallback, no_progress
from robopref.quality import run_qa
from robopref.quality.config import QAConfig
from robopref.reward import RewardModel, TrainResult
from robopref.store import (
    Store,
    annotations_frame,
    create_batch,
    open_store,
    pairs_frame,
    sync_trajectories,
)
from robopref.teachers import cast_roster, label_batch, parse_roster, simulated_labelers
from robopref.teachers.pseudo import PseudoConfig, pseudo_label
from robopref.teachers.rubric_labeler import RubricLabeler
from robopref.teachers.truth import truth_from_frame, truth_values
from robopref.types import Choice, PairKind

logger = logging.getLogger(__name__)

ROUND_COLUMNS = (
    "round", "strategy", "seed", "human_labels", "pairs", "ai_labels", "ai_accuracy",
    "ai_weight", "pseudo_labels", "train_pairs", "accuracy", "rho", "seconds",
)  # fmt: skip
"""Columns of the per-round table (`rounds.csv`)."""


@dataclass(frozen=True)
class LoopResult:
    """The learning curve of one run and its last model."""

    rounds: pd.DataFrame
    """One row per round, `ROUND_COLUMNS`."""
    model: RewardModel


def check_work_dir(work_dir: Path, field: str = "work_dir") -> None:
    """Refuse a folder that holds anything: a run writes only into a new or empty one."""
    if work_dir.exists() and (not work_dir.is_dir() or any(work_dir.iterdir())):
        raise InputError(work_dir, field, "not empty: give each run a new folder")


def run_label_loop(
    pool: Pool,
    config: LoopConfig,
    *,
    work_dir: Path,
    progress: ProgressCallback = no_progress,
) -> LoopResult:
    """Run one strategy to its human-label budget; one row per round.

    Args:
        pool: The pool (its manifest must hold `config.truth`).
        config: Strategy, budget, rounds and training settings.
        work_dir: A new or empty folder for the run's store and QA outputs.
        progress: Called as (human labels spent, budget).

    Raises:
        InputError: The truth column is missing or null, `work_dir` holds other files, or the
            pool cannot give the pairs a round asks for.
    """
    check_work_dir(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    manifest = pool.manifest
    values = truth_values(manifest, config.truth)
    held = split_held_out(
        manifest, values, fraction=config.held_out, n_pairs=config.test_pairs, seed=config.seed
    )
    candidates = pool.subset(held.train_ids)
    store = open_store(f"sqlite:///{work_dir / 'store.db'}")
    try:
        return _rounds(store, pool, config, held, candidates, values, work_dir, progress)
    finally:
        store.dispose()


def _rounds(
    store: Store,
    pool: Pool,
    config: LoopConfig,
    held: HeldOut,
    candidates: Pool,
    values: pd.Series,
    work_dir: Path,
    progress: ProgressCallback,
) -> LoopResult:
    manifest = pool.manifest
    multi_task = manifest["task"].nunique() > 1
    sync_trajectories(store, manifest)
    ids = config.annotator_ids
    truth = truth_from_frame(manifest, config.truth)
    people = simulated_labelers(cast_roster(parse_roster(config.roster), ids), truth)
    labeler = RubricLabeler(candidates.manifest)  # observable metrics only, never the truth
    ai_kept = pd.DataFrame()
    ai_weight = config.ai_weight
    ai_accuracy: float | None = None
    used: set[frozenset[str]] = set()
    cache = ScoreCache("memory")  # one model's scores, emptied when the model changes
    model: RewardModel | None = None
    rows: list[dict[str, object]] = []
    spent = 0
    round_no = 0
    while config.budget - spent >= config.annotators_per_pair:  # room for one more pair
        start = time.perf_counter()
        answers = config.bootstrap if round_no == 0 else config.round_size
        answers = min(answers, config.budget - spent)
        pairs_config = _pairs_within(answers, config, seed=config.seed * 1000 + round_no)
        n_pairs = pairs_config.batch_size
        batch_id = f"round-{round_no:02d}"
        exclude = [_ordered(p) for p in used]
        if config.strategy.ai and model is not None:
            ai = ai_round(
                candidates, model, labeler, config=config, pairs_config=pairs_config,
                annotator_ids=ids, labelled=exclude, cache=cache, batch_id=batch_id,
                truth=truth,
            )  # fmt: skip
            batch = ai.people
            ai_kept = pd.concat([ai_kept, ai.kept], ignore_index=True)
            ai_accuracy = ai.report.accuracy.get("trained")
        elif config.strategy.active and model is not None:
            batch = select_active(
                candidates, model, annotator_ids=ids, pairs_config=pairs_config,
                config=ActiveConfig(batch_size=n_pairs), labelled=exclude, cache=cache,
                batch_id=batch_id,
            )  # fmt: skip
        elif config.strategy is Strategy.RANDOM:
            batch = select_uniform_pairs(
                candidates.manifest, pairs_config, annotator_ids=ids, batch_id=batch_id,
                exclude=exclude,
            )  # fmt: skip
        else:
            batch = select_pairs(
                candidates.manifest, pairs_config, annotator_ids=ids, batch_id=batch_id,
                exclude=exclude,
            )  # fmt: skip
        batch = gold_from_truth(batch, values)
        create_batch(store, batch)
        label_batch(store, batch.batch_id, people, seed=config.seed * 1000 + round_no)
        used.update(frozenset((p.trajectory_a_id, p.trajectory_b_id)) for p in batch.pairs)
        used.update(_pair_set(ai_kept))
        annotations = annotations_frame(store)
        spent = len(annotations)
        qa = run_qa(
            annotations, pairs_frame(store), QAConfig(source="simulated"),
            out_dir=work_dir / "qa",
        )  # fmt: skip
        pseudo = _pseudo(candidates, model, used, config, round_no)
        if len(ai_kept) and ai_weight is None:  # tuned once, on the first round with AI labels
            ai_weight = _tune_ai_weight(qa.preferences, ai_kept, pseudo, pool, config, multi_task)
        if len(ai_kept):
            ai_kept = ai_kept.assign(weight=ai_weight)
        train = pd.concat(
            [frame for frame in (qa.preferences, ai_kept, pseudo) if len(frame)], ignore_index=True
        )
        model = _train(train, pool, config, multi_task=multi_task).model
        cache = ScoreCache("memory")
        accuracy, rho = held_out_scores(model, pool, held, manifest, values)
        rows.append({
            "round": round_no, "strategy": config.strategy.value, "seed": config.seed,
            "human_labels": spent, "pairs": len(used), "ai_labels": len(ai_kept),
            "ai_accuracy": ai_accuracy, "ai_weight": ai_weight if len(ai_kept) else None,
            "pseudo_labels": len(pseudo), "train_pairs": len(train),
            "accuracy": accuracy, "rho": rho, "seconds": time.perf_counter() - start,
        })  # fmt: skip
        logger.info("round %d: %d human labels, accuracy %.3f, rho %.3f",
                    round_no, spent, accuracy, rho)  # fmt: skip
        progress(min(spent, config.budget), config.budget)
        round_no += 1
    assert model is not None
    rounds = pd.DataFrame(rows, columns=list(ROUND_COLUMNS))
    rounds.to_csv(work_dir / "rounds.csv", index=False)
    (work_dir / "config.json").write_text(pd.Series(asdict(config)).to_json(indent=2))
    return LoopResult(rounds=rounds, model=model)


AI_WEIGHTS = (0.25, 0.5, 1.0)
"""AI-label weights tried when `LoopConfig.ai_weight` is None."""

DUPLICATES = 0.075
"""Share of pairs repeated reversed to one of their annotators (QA's self-consistency)."""


def gold_from_truth(batch: PairBatch, values: pd.Series) -> PairBatch:
    """`batch` with its gold answers taken from the truth the simulated people answer from.

    In production a gold answer is the rubric's (`quality_score`), the best observable
    judgement; in a benchmark whose people answer from another truth, the expert who set the
    gold must know that truth too, or QA flags careful annotators for agreeing with it.
    Gold pairs the truth cannot order become regular pairs.
    """
    pairs = []
    for pair in batch.pairs:
        if pair.expected is not None:  # gold pairs and their reversed duplicates
            a, b = values[pair.trajectory_a_id], values[pair.trajectory_b_id]
            expected = None if a == b else Choice.A if a > b else Choice.B
            ungraded = expected is None and pair.kind is PairKind.GOLD
            kind = PairKind.REGULAR if ungraded else pair.kind
            pair = replace(pair, kind=kind, expected=expected)
        pairs.append(pair)
    return replace(batch, pairs=tuple(pairs))


def _pairs_within(answers: int, config: LoopConfig, *, seed: int) -> PairsConfig:
    """The largest batch whose answers (reversed duplicates included) fit in `answers`."""
    per_pair = config.annotators_per_pair
    n = max(1, answers // per_pair)
    while True:
        pairs = PairsConfig(
            batch_size=n, annotators_per_pair=per_pair, duplicate_frac=DUPLICATES, seed=seed
        )
        if n == 1 or n * per_pair + pairs.duplicate_count() <= answers:  # 1 pair: no duplicate
            return pairs
        n -= 1


def _pair_set(frame: pd.DataFrame) -> set[frozenset[str]]:
    if frame.empty:
        return set()
    pairs = zip(frame["trajectory_a_id"].astype(str), frame["trajectory_b_id"].astype(str),
                strict=True)  # fmt: skip
    return {frozenset(p) for p in pairs}


def _ordered(pair: frozenset[str]) -> tuple[str, str]:
    a, b = sorted(pair)
    return a, b


def _pseudo(
    candidates: Pool,
    model: RewardModel | None,
    used: set[frozenset[str]],
    config: LoopConfig,
    round_no: int,
) -> pd.DataFrame:
    """Pseudo-labels from the previous round's model (none without a model or the strategy)."""
    if not config.strategy.pseudo or model is None:
        return pd.DataFrame()
    pseudo = PseudoConfig(
        max_pairs=config.pseudo_per_round, weight_scale=config.pseudo_weight,
        threshold=config.pseudo_threshold, seed=config.seed * 1000 + round_no,
    )  # fmt: skip
    labelled = [_ordered(p) for p in used]
    return pseudo_label(candidates, model, config=pseudo, labelled=labelled).labels


def _tune_ai_weight(
    people: pd.DataFrame,
    ai: pd.DataFrame,
    pseudo: pd.DataFrame,
    pool: Pool,
    config: LoopConfig,
    multi_task: bool,
) -> float:
    """The AI labels' weight with the best validation accuracy, ties to the smaller one.

    Validation holds people's labels only: AI and pseudo rows are train-only.
    """
    best: tuple[float, float] | None = None
    for weight in AI_WEIGHTS:
        frames = [people, ai.assign(weight=weight), pseudo]
        train = pd.concat([f for f in frames if len(f)], ignore_index=True)
        val = float(_train(train, pool, config, multi_task=multi_task).metrics["val_accuracy"])
        logger.info("AI weight %.2f: validation accuracy %.3f", weight, val)
        if best is None or val > best[1]:
            best = (weight, val)
    assert best is not None
    return best[0]


def _train(prefs: pd.DataFrame, pool: Pool, config: LoopConfig, *, multi_task: bool) -> TrainResult:
    import robopref.reward as rr

    train_config = rr.TrainConfig(
        encoder=rr.EncoderConfig(kind="state", language=multi_task),
        seed=config.seed,
        ensemble_size=config.ensemble_size,
        epochs=config.epochs,
        test_fraction=0.01,  # the loop's own held-out trajectories are the test
        device="cpu",
    )
    return rr.train_reward_model(prefs, pool, train_config)

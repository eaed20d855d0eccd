"""Configuration of the label-efficiency loop: strategy, label budget, rounds, truth."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Strategy(str, Enum):
    """How each round's pairs are chosen and which labels besides the humans' are used."""

    RANDOM = "random"
    """Uniform same-task pairs (the baseline)."""
    STRATIFIED = "stratified"
    """Stratified by quality quartile, as production batches (40/30/30)."""
    ACTIVE = "active"
    """Where the current model is least sure (after a stratified bootstrap)."""
    ACTIVE_AI = "active+ai"
    """Active, with an AI labeler's answers routed by noise: humans get the uncertain ones."""
    ACTIVE_AI_PSEUDO = "active+ai+pseudo"
    """As active+ai, plus confident pseudo-labels from the ensemble."""

    @property
    def active(self) -> bool:
        """Rounds after the bootstrap select by model uncertainty."""
        return self not in (Strategy.RANDOM, Strategy.STRATIFIED)

    @property
    def ai(self) -> bool:
        """An AI labeler answers too."""
        return self in (Strategy.ACTIVE_AI, Strategy.ACTIVE_AI_PSEUDO)

    @property
    def pseudo(self) -> bool:
        """Pseudo-labels join the training set."""
        return self is Strategy.ACTIVE_AI_PSEUDO


@dataclass(frozen=True, kw_only=True)
class LoopConfig:
    """A campaign without people: select → label → QA → train → evaluate, within a budget.

    Human labels are answers of the simulated annotators (B-Pref teachers standing in for
    people, who answer from `truth`, a column no AI labeler or model reads); each pair goes
    to `annotators_per_pair` of them and is aggregated by QA's majority vote, as in
    production.
    """

    strategy: Strategy = Strategy.STRATIFIED
    budget: int = 1000
    """Human answers to spend in all (reversed duplicates count: they cost people time)."""
    bootstrap: int = 300
    """Human answers in the first round (stratified for every strategy but random)."""
    round_size: int = 150
    """Human answers per later round."""
    annotators: int = 6
    annotators_per_pair: int = 3
    roster: str = "stochastic:3,mistake:2,myopic:1"
    """B-Pref teachers (noisy, as people are) dealt over the annotators."""
    truth: str = "true_return"
    """Manifest column the simulated people answer from and the evaluation scores against."""
    held_out: float = 0.2
    """Share of each task's trajectories never put in a batch (the evaluation's)."""
    test_pairs: int = 1000
    ensemble_size: int = 3
    epochs: int = 60
    ai_per_round: int = 400
    """Pairs the AI labeler answers per round (active+ai)."""
    ai_weight: float | None = 0.5
    """Training weight of a kept AI label relative to a human preference; None tunes it on
    the validation split (people's labels only) at the first round with AI labels, from
    `campaign.loop.AI_WEIGHTS`."""
    pseudo_per_round: int = 200
    """Pseudo-labels added per round at most (active+ai+pseudo)."""
    pseudo_weight: float = 0.5
    pseudo_threshold: float = 0.7
    """Ensemble confidence a pseudo-label needs. Below SURF's 0.9: a model trained on
    noisy people (B-Pref teachers, label-flip loss) is calibrated to their agreement, so
    even its top-versus-bottom pairs stay near 0.75 (measured on the synthetic pool)."""
    seed: int = 0

    def __post_init__(self) -> None:
        if self.budget < self.bootstrap:
            raise ValueError(f"LoopConfig.budget ({self.budget}) must be >= bootstrap")
        if min(self.bootstrap, self.round_size) < self.annotators_per_pair:
            raise ValueError("LoopConfig.bootstrap and round_size must hold at least one pair")
        if self.annotators < self.annotators_per_pair:
            raise ValueError("LoopConfig.annotators must be >= annotators_per_pair")
        if not 0.0 < self.held_out < 1.0:
            raise ValueError("LoopConfig.held_out must be in (0, 1)")

    @property
    def annotator_ids(self) -> list[str]:
        """ann-01 … ann-NN."""
        return [f"ann-{i + 1:02d}" for i in range(self.annotators)]

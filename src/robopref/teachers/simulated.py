"""Simulated annotators: B-Pref teachers (Lee et al. 2021) plus the traits QA must catch.

A teacher decides which trajectory is better from the ground truth, as B-Pref's
`RewardModel.get_label` (rll-research/BPref, reward_model.py) does, with one difference:
each threshold is ε · margin, applied once (BPref's train_PEBBLE.py multiplies by ε a
second time after the first query). A trait then models how a person answers: a careful
one, a speeder, a left-clicker, or one who contradicts themselves on reversed duplicates.
`SimulatedLabeler` puts one behind the `Labeler` protocol, holding the ground truth it
answers from (no AI labeler reads it).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np

from robopref.errors import InputError
from robopref.teachers.labeler import Answer, PairView, Provenance
from robopref.teachers.truth import GroundTruth
from robopref.types import Choice, PairKind


@dataclass(frozen=True, kw_only=True)
class TeacherConfig:
    """B-Pref's five teacher knobs (`teacher_beta`, `_gamma`, `_eps_mistake/skip/equal`)."""

    beta: float = math.inf
    """Bradley–Terry rationality per unit of normalised score; inf answers deterministically."""
    gamma: float = 1.0
    """Discount over steps: < 1 is myopic, weighting recent steps (needs per-step progress)."""
    eps_mistake: float = 0.0
    """Probability of flipping the answer."""
    eps_skip: float = 0.0
    """Skip when both scores are ≤ eps_skip · margin (neither trajectory does anything)."""
    eps_equal: float = 0.0
    """Answer `equal` when the scores differ by < eps_equal · margin."""

    def __post_init__(self) -> None:
        if not self.beta > 0:
            raise ValueError(f"beta must be > 0 (inf for a rational teacher), got {self.beta}")
        if not 0.0 < self.gamma <= 1.0:
            raise ValueError(f"gamma must be in (0, 1], got {self.gamma}")
        for name in ("eps_mistake", "eps_skip", "eps_equal"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")


@dataclass(frozen=True, kw_only=True)
class TraitConfig:
    """How a simulated person behaves on top of their teacher."""

    p_random: float = 0.0
    """Probability of answering at random instead of judging (a speeder)."""
    p_left: float = 0.0
    """Probability of picking whatever is on the left (position bias)."""
    p_flip_duplicate: float = 0.0
    """Probability of contradicting themselves on a reversed-duplicate pair."""
    rt_median_s: float = 15.0
    """Median response time of an easy pair, seconds (log-normal); hard pairs take ≤ 1.5×."""
    rt_sigma: float = 0.35
    """Log-normal spread of response times."""
    rt_max_s: float = 120.0
    """Response times are clipped to this."""

    def __post_init__(self) -> None:
        for name in ("p_random", "p_left", "p_flip_duplicate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if not 0 < self.rt_median_s <= self.rt_max_s:
            raise ValueError(f"rt_median_s must be in (0, rt_max_s], got {self.rt_median_s}")
        if self.rt_sigma < 0:
            raise ValueError(f"rt_sigma must be ≥ 0, got {self.rt_sigma}")


TEACHERS: dict[str, TeacherConfig] = {
    "oracle": TeacherConfig(),
    "stochastic": TeacherConfig(beta=10.0),
    "mistake": TeacherConfig(eps_mistake=0.1),
    "skip": TeacherConfig(eps_skip=0.1),
    "equal": TeacherConfig(eps_equal=0.1),
    "myopic": TeacherConfig(gamma=0.9),
}
"""B-Pref's teachers (paper §4: ε = 0.1, γ = 0.9). β = 10 here because scores span [0, 1]:
a pair 0.1 apart is answered right 73% of the time, 0.3 apart 95%."""

TRAITS: dict[str, TraitConfig] = {
    "careful": TraitConfig(),
    "speeder": TraitConfig(p_random=0.85, rt_median_s=1.4, rt_sigma=0.3, rt_max_s=2.9),
    "left-clicker": TraitConfig(p_left=0.85, rt_median_s=6.0),
    "inconsistent": TraitConfig(p_flip_duplicate=0.6, rt_median_s=10.0),
}
"""Annotator behaviours the quality stage must flag (speeders answer in < 3 s)."""


@dataclass(frozen=True, kw_only=True)
class SimulatedAnnotator:
    """One simulated person: an id, a teacher and a trait."""

    annotator_id: str
    """The store id whose assignments it answers."""
    teacher: str = "oracle"
    """Key of `TEACHERS`."""
    trait: str = "careful"
    """Key of `TRAITS`."""

    def __post_init__(self) -> None:
        if self.teacher not in TEACHERS:
            raise ValueError(f"teacher must be one of {sorted(TEACHERS)}, got {self.teacher!r}")
        if self.trait not in TRAITS:
            raise ValueError(f"trait must be one of {sorted(TRAITS)}, got {self.trait!r}")

    @property
    def label(self) -> str:
        """`teacher+trait`, e.g. `oracle+speeder`."""
        return f"{self.teacher}+{self.trait}"


SIMULATED = Provenance(labeler="simulated", version="1", is_human=True)
"""Provenance of simulated people: stored as `interface_version` `simulated-1`, idempotency
keys `sim-<seed>-<pair_id>`; QA counts them as humans (they stand in for people)."""

INTERFACE_VERSION = SIMULATED.interface_version
"""`interface_version` recorded on simulated annotations."""


@dataclass(frozen=True, kw_only=True)
class SimulatedLabeler:
    """A simulated annotator as a `Labeler`: answers from its own ground truth."""

    annotator: SimulatedAnnotator
    truth: GroundTruth
    provenance: Provenance = SIMULATED

    @property
    def annotator_id(self) -> str:
        """The simulated annotator's store id."""
        return self.annotator.annotator_id

    def check_trajectories(self, trajectory_ids: Collection[str]) -> None:
        """Refuse trajectories the ground truth does not cover.

        Raises:
            InputError: Field `trajectory_id`, naming up to five of them.
        """
        missing = sorted(set(trajectory_ids) - set(self.truth.score))
        if missing:
            raise InputError("ground truth", "trajectory_id", f"no ground truth for {missing[:5]}")

    def label(self, pair: PairView, *, seed: int) -> Answer | None:
        """`simulate_answer` for this annotator."""
        return simulate_answer(self.annotator, pair, self.truth, seed=seed)


def simulated_labelers(
    annotators: Sequence[SimulatedAnnotator], truth: GroundTruth
) -> list[SimulatedLabeler]:
    """One `SimulatedLabeler` per annotator, all answering from `truth`."""
    return [SimulatedLabeler(annotator=a, truth=truth) for a in annotators]


def pair_rng(seed: int, annotator_id: str, pair_id: str) -> np.random.Generator:
    """A generator that depends only on (seed, annotator, pair).

    Answers then do not depend on the order work is done in, so reruns and resumed runs agree.
    """
    digest = hashlib.sha256(f"{annotator_id}\x00{pair_id}".encode()).digest()
    return np.random.default_rng([seed, int.from_bytes(digest[:8], "little")])


def teacher_label(
    teacher: TeacherConfig, truth: GroundTruth, a: str, b: str, rng: np.random.Generator
) -> Choice | None:
    """B-Pref's `get_label` for one pair: None means skip.

    Skip and equal look at the undiscounted score (as BPref's sums before discounting);
    the preference itself uses the γ-discounted value.
    """
    score_a, score_b = truth.score[a], truth.score[b]
    if teacher.eps_skip > 0 and max(score_a, score_b) <= teacher.eps_skip * truth.margin:
        return None
    if abs(score_a - score_b) < teacher.eps_equal * truth.margin:
        return Choice.EQUAL  # BPref sets the tie after the mistake, so a tie is never flipped
    value_a, value_b = truth.value(a, teacher.gamma), truth.value(b, teacher.gamma)
    if math.isinf(teacher.beta):
        # BPref breaks an exact tie towards the first segment; a tie is a tie here
        if value_a == value_b:
            return Choice.EQUAL
        choice = Choice.A if value_a > value_b else Choice.B
    else:
        p_a = 1.0 / (1.0 + math.exp(-teacher.beta * (value_a - value_b)))
        choice = Choice.A if rng.random() < p_a else Choice.B
    if rng.random() < teacher.eps_mistake:
        choice = flip(choice)
    return choice


def flip(choice: Choice) -> Choice:
    """A ↔ B; equal stays equal.

    >>> flip(Choice.A).value, flip(Choice.EQUAL).value
    ('B', 'equal')
    """
    return {Choice.A: Choice.B, Choice.B: Choice.A}.get(choice, choice)


def simulate_answer(
    annotator: SimulatedAnnotator, pair: PairView, truth: GroundTruth, *, seed: int
) -> Answer | None:
    """The annotator's answer to one pair (None: skipped), deterministic given the seed."""
    rng = pair_rng(seed, annotator.annotator_id, pair.pair_id)
    trait = TRAITS[annotator.trait]
    a, b = pair.trajectory_a_id, pair.trajectory_b_id
    choice = teacher_label(TEACHERS[annotator.teacher], truth, a, b, rng)
    if choice is None:
        return None
    gap = abs(truth.score[a] - truth.score[b])
    guessed = rng.random() < trait.p_random
    if guessed:
        choice = Choice(rng.choice([c.value for c in Choice], p=[0.45, 0.45, 0.1]))
    if rng.random() < trait.p_left:
        choice = Choice.A if pair.left_trajectory_id == a else Choice.B
    if pair.kind == PairKind.DUPLICATE and rng.random() < trait.p_flip_duplicate:
        choice = flip(choice) if choice != Choice.EQUAL else Choice(rng.choice(["A", "B"]))
    confidence = int(rng.integers(1, 6)) if guessed else confidence_for(gap, rng)
    return Answer(choice, confidence, response_time_ms(trait, gap, rng))


def confidence_for(gap: float, rng: np.random.Generator) -> int:
    """1–5: a clear gap (≥ 0.5 of the score range) gives 5, a coin flip 1, ±1 jitter."""
    base = 1.0 + 4.0 * min(1.0, gap / 0.5)
    return int(np.clip(round(base + rng.normal(0.0, 0.5)), 1, 5))


def response_time_ms(trait: TraitConfig, gap: float, rng: np.random.Generator) -> int:
    """Log-normal response time; pairs with small gaps take up to 1.5× longer."""
    median_s = trait.rt_median_s * (1.0 + 0.5 * (1.0 - min(1.0, gap / 0.5)))
    seconds = median_s * math.exp(rng.normal(0.0, trait.rt_sigma))
    return int(1000 * min(seconds, trait.rt_max_s))

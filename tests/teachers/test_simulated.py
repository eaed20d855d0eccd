"""B-Pref teachers and annotator traits against known ground truth."""

from __future__ import annotations

import math

import numpy as np
import pytest

from robopref.teachers import (
    TEACHERS,
    GroundTruth,
    PairView,
    SimulatedAnnotator,
    TeacherConfig,
    simulate_answer,
    teacher_label,
)
from robopref.teachers.simulated import pair_rng
from robopref.types import Choice, PairKind

N = 21
TRUTH = GroundTruth(score={f"t{i:02d}": i / (N - 1) for i in range(N)})  # margin 0.5


def all_pairs() -> list[tuple[str, str]]:
    ids = sorted(TRUTH.score)
    return [(a, b) for a in ids for b in ids if a != b]


def answers(
    teacher: str, trait: str = "careful", *, kind: PairKind = PairKind.REGULAR,
    left_is_a: bool = True, repeats: int = 1, seed: int = 0,
) -> list[tuple[str, str, object]]:
    out = []
    for r in range(repeats):
        who = SimulatedAnnotator(annotator_id=f"sim-{r}", teacher=teacher, trait=trait)
        for a, b in all_pairs():
            view = PairView(pair_id=f"{a}-{b}", trajectory_a_id=a, trajectory_b_id=b,
                            left_trajectory_id=a if left_is_a else b, kind=kind)
            out.append((a, b, simulate_answer(who, view, TRUTH, seed=seed)))
    return out


def truly(a: str, b: str) -> Choice:
    return Choice.A if TRUTH.score[a] > TRUTH.score[b] else Choice.B


def test_oracle_always_agrees_with_the_ground_truth() -> None:
    got = answers("oracle")
    assert all(ans.preference == truly(a, b) for a, b, ans in got)  # type: ignore[union-attr]


def test_stochastic_teacher_follows_bradley_terry() -> None:
    beta = TEACHERS["stochastic"].beta
    got = answers("stochastic", repeats=20)
    for gap_steps in (1, 3, 8):
        gap = gap_steps / (N - 1)
        picked = [ans.preference == truly(a, b) for a, b, ans in got  # type: ignore[union-attr]
                  if round(abs(TRUTH.score[a] - TRUTH.score[b]) * (N - 1)) == gap_steps]
        expected = 1 / (1 + math.exp(-beta * gap))
        assert np.mean(picked) == pytest.approx(expected, abs=0.04), gap_steps


def test_mistake_teacher_flips_about_one_answer_in_ten() -> None:
    got = answers("mistake", repeats=5)
    wrong = np.mean([ans.preference != truly(a, b) for a, b, ans in got])  # type: ignore[union-attr]
    assert 0.08 <= wrong <= 0.12


def test_skip_and_equal_thresholds_are_epsilon_times_margin_applied_once() -> None:
    rng = np.random.default_rng(0)
    skip, equal = TeacherConfig(eps_skip=0.1), TeacherConfig(eps_equal=0.1)
    # margin 0.414: skip when both ≤ 0.041, tie when the gap < 0.041 (not ε² · margin)
    truth = GroundTruth(score={"lo1": 0.0, "lo2": 0.04, "mid": 0.5, "near": 0.53, "hi": 1.0})
    assert truth.margin == pytest.approx(0.414)
    assert teacher_label(skip, truth, "lo1", "lo2", rng) is None
    assert teacher_label(skip, truth, "lo1", "mid", rng) == Choice.B
    assert teacher_label(equal, truth, "mid", "near", rng) == Choice.EQUAL
    assert teacher_label(equal, truth, "mid", "hi", rng) == Choice.B


def test_myopic_teacher_judges_by_the_last_steps() -> None:
    rise = np.linspace(0.0, 1.0, 30)
    early_then_lost = np.concatenate([np.ones(20), np.linspace(1.0, 0.2, 10)])
    truth = GroundTruth(score={"steady": 0.6, "lost": 0.9},
                        progress={"steady": rise, "lost": early_then_lost})
    rng = np.random.default_rng(0)
    assert teacher_label(TEACHERS["oracle"], truth, "steady", "lost", rng) == Choice.B
    assert teacher_label(TEACHERS["myopic"], truth, "steady", "lost", rng) == Choice.A
    assert truth.value("lost", 1.0) == 0.9


def test_speeder_answers_fast_and_near_random() -> None:
    got = answers("oracle", "speeder")
    times = [ans.response_time_ms for _, _, ans in got]  # type: ignore[union-attr]
    assert max(times) < 3000
    right = np.mean([ans.preference == truly(a, b) for a, b, ans in got])  # type: ignore[union-attr]
    assert 0.45 <= right <= 0.65


def test_left_clicker_picks_the_left_side() -> None:
    for left_is_a, side in ((True, Choice.A), (False, Choice.B)):
        got = answers("oracle", "left-clicker", left_is_a=left_is_a)
        share = np.mean([ans.preference == side for _, _, ans in got])  # type: ignore[union-attr]
        assert share >= 0.85


def test_inconsistent_annotator_contradicts_itself_on_duplicates() -> None:
    original = answers("oracle", "inconsistent")
    duplicate = answers("oracle", "inconsistent", kind=PairKind.DUPLICATE)
    flips = np.mean([o.preference != d.preference  # type: ignore[union-attr]
                     for (_, _, o), (_, _, d) in zip(original, duplicate, strict=True)])
    assert 0.5 <= flips <= 0.7
    careful = answers("oracle", kind=PairKind.DUPLICATE)
    assert all(ans.preference == truly(a, b) for a, b, ans in careful)  # type: ignore[union-attr]


def test_careful_times_and_confidence_track_difficulty() -> None:
    got = answers("oracle")
    gaps = np.array([abs(TRUTH.score[a] - TRUTH.score[b]) for a, b, _ in got])
    times = np.array([ans.response_time_ms for _, _, ans in got]) / 1000  # type: ignore[union-attr]
    confidence = np.array([ans.confidence for _, _, ans in got])  # type: ignore[union-attr]
    assert 13 <= np.median(times[gaps >= 0.5]) <= 17
    assert np.median(times[gaps <= 0.1]) > np.median(times[gaps >= 0.5])
    assert set(confidence) <= {1, 2, 3, 4, 5}
    assert np.corrcoef(gaps, confidence)[0, 1] > 0.7


def test_answers_are_deterministic_given_the_seed() -> None:
    first = answers("stochastic", "speeder", seed=3)
    assert first == answers("stochastic", "speeder", seed=3)
    assert first != answers("stochastic", "speeder", seed=4)
    a = pair_rng(0, "x", "p").random()
    assert a == pair_rng(0, "x", "p").random() != pair_rng(0, "y", "p").random()


@pytest.mark.parametrize("field", ["beta", "gamma", "eps_mistake"])
def test_bad_teacher_config_names_the_field(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        TeacherConfig(**{field: -1.0})
    with pytest.raises(ValueError, match="teacher"):
        SimulatedAnnotator(annotator_id="x", teacher="genius")

"""Certification as the web app runs it: phases, scoring a finished set, and its feedback.

An annotator who is not certified is served calibration batches only; the submit (or skip)
that finishes a calibration set scores it with `certification.certification_attempts`
(Cohen's kappa against the expert answers), records the attempt once, and on a fail
assigns the next set they have not taken. Certified annotators are served production work.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum

from robopref.campaign.certification import (
    assign_next_set,
    certification_attempts,
    stored_kappa,
)
from robopref.quality import QAConfig
from robopref.quality.kappa import CertificationStep, certification_step
from robopref.store import (
    CalibrationAnswer,
    Store,
    annotator_batch_ids,
    calibration_answers,
    certification_history,
    is_batch_finished,
    is_certified,
    next_assignment,
    pair_batch,
    rankings_waiting,
    record_certification_once,
)
from robopref.types import BatchKind, Choice

logger = logging.getLogger(__name__)

CALIBRATION_KINDS = (BatchKind.CALIBRATION,)
"""Batch kinds served to an annotator who is not certified."""
PRODUCTION_KINDS = (BatchKind.PRODUCTION, BatchKind.ACTIVE, BatchKind.RANKING)
"""Batch kinds served to a certified annotator."""


class Phase(str, Enum):
    """Where an annotator stands."""

    CALIBRATION = "calibration"
    """Not certified, with calibration pairs to answer."""
    PRODUCTION = "production"
    """Certified, with pairs or ranking sets to do."""
    WAITING = "waiting"
    """Not certified and no calibration work left (e.g. every set failed)."""
    DONE = "done"
    """Certified and nothing left to do for now."""


class NextStep(str, Enum):
    """What follows a calibration attempt."""

    PRODUCTION = "production"
    SECOND_SET = "second_set"
    """Failed; another calibration set is assigned."""
    NO_MORE_SETS = "no_more_sets"
    """Failed, and no set is left to take (or the attempts are used up)."""


@dataclass(frozen=True, kw_only=True)
class FeedbackItem:
    """One answered calibration pair, with sides as the annotator saw them."""

    answer: CalibrationAnswer
    """The stored answer, expert answer and rationale."""
    your_side: str
    """`left`, `right` or `equal`: what the annotator chose, on screen."""
    expert_side: str | None
    """The expert answer on the same screen (None if the pair had none)."""

    @property
    def agreed(self) -> bool:
        """Whether the annotator chose what the expert chose."""
        return self.your_side == self.expert_side


@dataclass(frozen=True, kw_only=True)
class CalibrationFeedback:
    """The latest calibration attempt of an annotator, pair by pair."""

    batch_id: str
    kappa: float
    threshold: float
    passed: bool
    attempt: int
    """1 for the first set taken, 2 for the retest, …"""
    next: NextStep
    items: tuple[FeedbackItem, ...]


def decide_phase(*, certified: bool, has_pair: bool, rankings: int) -> Phase:
    """The phase of an annotator from their state.

    Args:
        certified: Their latest calibration attempt passed.
        has_pair: A pair of the kinds their state is served (`kinds_served`) is open.
        rankings: Ranking sets waiting for them.

    >>> decide_phase(certified=False, has_pair=False, rankings=3).value
    'waiting'
    """
    if not certified:
        return Phase.CALIBRATION if has_pair else Phase.WAITING
    return Phase.PRODUCTION if has_pair or rankings > 0 else Phase.DONE


def kinds_served(certified: bool) -> tuple[BatchKind, ...]:
    """Batch kinds served: calibration until certified, production kinds after."""
    return PRODUCTION_KINDS if certified else CALIBRATION_KINDS


def phase_of(store: Store, annotator_id: str) -> Phase:
    """The annotator's phase now (see `Phase`); reads only, marks nothing shown."""
    certified = is_certified(store, annotator_id)
    work = next_assignment(store, annotator_id, kinds=kinds_served(certified), mark_shown=False)
    rankings = rankings_waiting(store, annotator_id) if certified else 0
    return decide_phase(certified=certified, has_pair=work is not None, rankings=rankings)


def start_calibration(store: Store, annotator_id: str, *, seed: int = 0) -> str | None:
    """Assign a not-yet-certified annotator their first calibration set, if they have none.

    Returns:
        The calibration batch assigned, or None (certified, already holding one, or no set).
    """
    if is_certified(store, annotator_id):
        return None
    if annotator_batch_ids(store, annotator_id, kinds=CALIBRATION_KINDS):
        return None
    return assign_next_set(store, annotator_id, seed=seed)


def finish_calibration(
    store: Store, annotator_id: str, batch_id: str, config: QAConfig, *, seed: int = 0
) -> NextStep:
    """Score the annotator's attempt on a calibration set; record it; on a fail, assign more.

    Calling it again for the same set records nothing new (and assigns nothing).

    Returns:
        What follows: production, a second set, or no more sets.
    """
    table = certification_attempts(store, config, annotator_id=annotator_id)
    mine = table[table["batch_id"] == batch_id]
    if mine.empty:  # every pair skipped: no answer to score, a fail
        kappas = [float(k) for k in table["kappa"]] + [float("nan")]
        kappa, step = float("nan"), certification_step(kappas, config)
    else:
        kappa, step = float(mine["kappa"].iloc[0]), CertificationStep(mine["step"].iloc[0])
    passed = step is CertificationStep.CERTIFIED
    recorded = record_certification_once(store, annotator_id=annotator_id,
                                         calibration_batch_id=batch_id,
                                         kappa=stored_kappa(kappa), passed=passed)
    if recorded is None:
        return next_step(store, annotator_id)
    logger.info("%s: kappa %.3f on %s → %s", annotator_id, kappa, batch_id, step.value)
    if step is CertificationStep.RETEST and assign_next_set(store, annotator_id, seed=seed):
        return NextStep.SECOND_SET
    return NextStep.PRODUCTION if passed else NextStep.NO_MORE_SETS


def finish_if_calibration_done(
    store: Store, annotator_id: str, pair_id: str, config: QAConfig, *, seed: int = 0,
    batch: tuple[str, BatchKind] | None = None,
) -> bool:
    """After a submit or skip: score the pair's calibration set if that finished it.

    Args:
        store: The store.
        annotator_id: Who submitted or skipped.
        pair_id: The pair.
        config: QA settings the attempt is scored with.
        seed: Seed of the next set's assignment after a fail.
        batch: The pair's batch id and kind when the caller knows them already (the
            web app's ownership check read them); None reads them from the store.

    Returns:
        True when the pair is in a calibration set the annotator has now finished (also
        for a retried final submit), so the page can open the feedback.
    """
    found = pair_batch(store, pair_id) if batch is None else batch
    if found is None or found[1] is not BatchKind.CALIBRATION:
        return False
    if not is_batch_finished(store, annotator_id, found[0]):
        return False
    finish_calibration(store, annotator_id, found[0], config, seed=seed)
    return True


def next_step(store: Store, annotator_id: str) -> NextStep:
    """What follows the annotator's latest attempt, from the store's state now."""
    if is_certified(store, annotator_id):
        return NextStep.PRODUCTION
    work = next_assignment(store, annotator_id, kinds=CALIBRATION_KINDS, mark_shown=False)
    return NextStep.SECOND_SET if work is not None else NextStep.NO_MORE_SETS


def calibration_feedback(
    store: Store, annotator_id: str, config: QAConfig
) -> CalibrationFeedback | None:
    """The annotator's latest attempt with their and the expert's answer per pair.

    Only pairs the annotator answered are listed (the store's `calibration_answers`), so
    no expert answer of a pair they have not seen is revealed. None before any attempt.
    """
    history = certification_history(store, annotator_id)
    if history.empty:
        return None
    latest = history.iloc[-1]
    batch_id = str(latest["calibration_batch_id"])
    items = tuple(_item(a) for a in calibration_answers(store, annotator_id, batch_id))
    return CalibrationFeedback(
        batch_id=batch_id, kappa=float(latest["kappa"]), threshold=config.kappa_threshold,
        passed=bool(latest["passed"]), attempt=len(history), next=next_step(store, annotator_id),
        items=items,
    )


def screen_side(choice: Choice, answer: CalibrationAnswer) -> str:
    """A/B/equal as the side the annotator saw it on: `left`, `right` or `equal`."""
    if choice is Choice.EQUAL:
        return "equal"
    chosen = answer.trajectory_a_id if choice is Choice.A else answer.trajectory_b_id
    return "left" if chosen == answer.left_trajectory_id else "right"


def _item(answer: CalibrationAnswer) -> FeedbackItem:
    expert = None if answer.expected is None else screen_side(answer.expected, answer)
    return FeedbackItem(answer=answer, your_side=screen_side(answer.preference, answer),
                        expert_side=expert)

"""Simulated annotators working through their assignments in the store, and their roster."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from robopref.errors import InputError
from robopref.progress import ProgressCallback, no_progress
from robopref.store import (
    Store,
    Submission,
    assignments_frame,
    pairs_frame,
    skip_assignment,
    submit_annotation,
)
from robopref.store.models import utcnow
from robopref.teachers.simulated import (
    TEACHERS,
    TRAITS,
    PairView,
    SimulatedAnnotator,
    simulate_answer,
)
from robopref.teachers.truth import GroundTruth
from robopref.types import PairKind

logger = logging.getLogger(__name__)

INTERFACE_VERSION = "simulated-1"
"""`interface_version` recorded on simulated annotations."""


def simulate_batch(
    store: Store,
    batch_id: str,
    annotators: Sequence[SimulatedAnnotator],
    truth: GroundTruth,
    *,
    seed: int,
    progress: ProgressCallback = no_progress,
) -> int:
    """Have each simulated annotator answer its open assignments in `batch_id`.

    Answers go through `submit_annotation`, like a person's, with idempotency key
    `sim-<seed>-<pair_id>`: rerunning (or resuming) writes nothing twice. Pairs a skip
    teacher declines are marked skipped.

    Returns:
        Annotations newly stored.

    Raises:
        InputError: The batch has no pairs, or a pair's trajectory is missing from `truth`.
    """
    pairs = {str(r["pair_id"]): r for r in pairs_frame(store, batch_id).to_dict("records")}
    if not pairs:
        raise InputError(batch_id, "batch_id", "no pairs in this batch")
    used = {str(p[k]) for p in pairs.values() for k in ("trajectory_a_id", "trajectory_b_id")}
    missing = sorted(used - set(truth.score))
    if missing:
        raise InputError(batch_id, "trajectory_id", f"no ground truth for {missing[:5]}")
    by_id = {a.annotator_id: a for a in annotators}
    todo = [
        r for r in assignments_frame(store, batch_id).to_dict("records")
        if not r["completed"] and not r["skipped"] and r["annotator_id"] in by_id
    ]
    created = skipped = 0
    for done, row in enumerate(todo, start=1):
        pair = pairs[row["pair_id"]]
        view = PairView(pair_id=row["pair_id"], trajectory_a_id=pair["trajectory_a_id"],
                        trajectory_b_id=pair["trajectory_b_id"],
                        left_trajectory_id=row["left_trajectory_id"], kind=PairKind(pair["kind"]))
        outcome = _answer(store, by_id[row["annotator_id"]], view, truth, seed=seed)
        created += outcome is True
        skipped += outcome is None
        progress(done, len(todo))
    logger.info("batch %s: %d simulated annotations, %d skipped", batch_id, created, skipped)
    return created


def _answer(
    store: Store, annotator: SimulatedAnnotator, pair: PairView, truth: GroundTruth, *, seed: int
) -> bool | None:
    """Submit (True: stored now, False: stored before) or skip (None) one assignment."""
    answer = simulate_answer(annotator, pair, truth, seed=seed)
    if answer is None:
        skip_assignment(store, annotator.annotator_id, pair.pair_id)
        return None
    return submit_annotation(store, Submission(
        annotator_id=annotator.annotator_id, pair_id=pair.pair_id,
        preference=answer.preference, confidence=answer.confidence,
        response_time_ms=answer.response_time_ms, left_trajectory_id=pair.left_trajectory_id,
        idempotency_key=f"sim-{seed}-{pair.pair_id}", interface_version=INTERFACE_VERSION,
        shown_at=utcnow() - timedelta(milliseconds=answer.response_time_ms),
    )).created


def parse_roster(spec: str) -> list[dict[str, Any]]:
    """Roster entries from `oracle:3,speeder:1,stochastic+left-clicker:1` or a YAML file.

    A name is a teacher (trait careful), a trait (teacher oracle) or `teacher+trait`. A YAML
    file holds a list of mappings with `teacher`, `trait`, `count` and/or `annotator_id`.

    Returns:
        Mappings with `teacher`, `trait`, `count` and optional `annotator_id`.

    Raises:
        InputError: Unknown name, bad count or unreadable file (field `annotators`).
    """
    path = Path(spec)
    if spec.endswith((".yaml", ".yml")):
        try:
            loaded = yaml.safe_load(path.read_text())
        except (OSError, yaml.YAMLError) as exc:
            raise InputError(path, "annotators", f"unreadable: {exc}") from exc
        if not isinstance(loaded, list) or not all(isinstance(e, dict) for e in loaded):
            raise InputError(path, "annotators", "must be a list of {teacher, trait, count}")
        return [_entry(path, e) for e in loaded]
    entries = []
    for item in filter(None, (s.strip() for s in spec.split(","))):
        name, _, count = item.partition(":")
        teacher, trait = _split_name(spec, name.strip())
        entries.append(_entry(spec, {"teacher": teacher, "trait": trait, "count": count or 1}))
    if not entries:
        raise InputError(spec, "annotators", "no annotators given")
    return entries


def _split_name(spec: str, name: str) -> tuple[str, str]:
    if "+" in name:
        teacher, trait = name.split("+", 1)
        return teacher, trait
    if name in TEACHERS:
        return name, "careful"
    if name in TRAITS:
        return "oracle", name
    known = sorted(TEACHERS) + sorted(TRAITS)
    raise InputError(spec, "annotators", f"{name!r} is not a teacher or trait ({known})")


def _entry(where: object, entry: dict[str, Any]) -> dict[str, Any]:
    teacher, trait = str(entry.get("teacher", "oracle")), str(entry.get("trait", "careful"))
    if teacher not in TEACHERS or trait not in TRAITS:
        raise InputError(str(where), "annotators", f"unknown teacher/trait {teacher}+{trait}; "
                         f"teachers {sorted(TEACHERS)}, traits {sorted(TRAITS)}")
    try:
        count = int(entry.get("count", 1))
    except (TypeError, ValueError):
        raise InputError(str(where), "annotators", f"bad count {entry.get('count')!r}") from None
    if count < 1 or ("annotator_id" in entry and count != 1):
        raise InputError(str(where), "annotators", "count must be ≥ 1 (1 with annotator_id)")
    out = {"teacher": teacher, "trait": trait, "count": count}
    if "annotator_id" in entry:
        out["annotator_id"] = str(entry["annotator_id"])
    return out


def cast_roster(
    entries: Sequence[dict[str, Any]], annotator_ids: Sequence[str]
) -> list[SimulatedAnnotator]:
    """Give each of a batch's annotators a profile.

    Entries with an `annotator_id` take theirs; the rest are dealt out over the remaining
    ids in sorted order.

    Raises:
        InputError: The roster does not cover exactly the batch's annotators.
    """
    named = {e["annotator_id"]: e for e in entries if "annotator_id" in e}
    unknown = sorted(set(named) - set(annotator_ids))
    if unknown:
        raise InputError("--annotators", "annotators", f"not in the batch: {unknown}")
    rest = [a for a in sorted(annotator_ids) if a not in named]
    profiles = [(e["teacher"], e["trait"]) for e in entries if "annotator_id" not in e
                for _ in range(e["count"])]
    if len(profiles) != len(rest):
        raise InputError("--annotators", "annotators",
                         f"gives {len(profiles)} unnamed annotators but the batch has "
                         f"{len(rest)} to cast ({rest[:6]}{'…' if len(rest) > 6 else ''})")
    cast = [SimulatedAnnotator(annotator_id=i, teacher=e["teacher"], trait=e["trait"])
            for i, e in named.items()]
    cast += [SimulatedAnnotator(annotator_id=i, teacher=t, trait=r)
             for i, (t, r) in zip(rest, profiles, strict=True)]
    return sorted(cast, key=lambda a: a.annotator_id)

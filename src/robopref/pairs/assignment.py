"""Who sees which pair: balanced load, left/right randomisation and reversed duplicates."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from robopref.errors import InputError
from robopref.pairs.config import PairsConfig
from robopref.pairs.records import AssignmentSpec, PairSpec
from robopref.types import Choice, PairKind

logger = logging.getLogger(__name__)


def check_annotators(annotator_ids: Sequence[str], per_item: int) -> list[str]:
    """The annotator ids as a list, after checking they are distinct and enough.

    Raises:
        InputError: Ids repeat, are empty, or fewer than `per_item` are given.
    """
    ids = [str(a) for a in annotator_ids]
    if any(not a for a in ids):
        raise InputError("annotators", "annotator_ids", "empty annotator id")
    if len(set(ids)) != len(ids):
        raise InputError("annotators", "annotator_ids", "annotator ids repeat")
    if len(ids) < per_item:
        raise InputError(
            "annotators",
            "annotator_ids",
            f"{len(ids)} annotators given; each item needs {per_item} different ones",
        )
    return ids


def balanced_holders(
    n_items: int, n_annotators: int, per_item: int, rng: np.random.Generator
) -> list[list[int]]:
    """Give each item `per_item` distinct annotators so loads differ by at most one.

    Each item goes to the least-loaded annotators, ties broken at random, which keeps every
    load within one of the others and mixes the groups that share items.

    >>> holders = balanced_holders(5, 3, 2, np.random.default_rng(0))
    >>> sorted(np.bincount(np.concatenate(holders)).tolist())
    [3, 3, 4]
    """
    loads = np.zeros(n_annotators, dtype=np.int64)
    out = []
    for _ in range(n_items):
        chosen = np.lexsort((rng.random(n_annotators), loads))[:per_item]
        loads[chosen] += 1
        out.append(sorted(int(c) for c in chosen))
    return out


def assign_pairs(
    pairs: Sequence[PairSpec], *, annotator_ids: Sequence[str], config: PairsConfig
) -> tuple[tuple[PairSpec, ...], tuple[AssignmentSpec, ...]]:
    """Assign pairs to annotators and add reversed duplicates.

    Every pair goes to `config.annotators_per_pair` annotators with balanced load; each
    assignment shows A or B on the left at random. `config.duplicate_count` pairs are
    repeated, A and B swapped, to one of their own annotators, who then sees the other
    trajectory on the left; duplicates go to the least-loaded annotators first, so final
    loads still differ by at most one. A duplicate is placed somewhere after its original.

    Args:
        pairs: The distinct pairs of a batch.
        annotator_ids: Who annotates.
        config: Overlap, duplicate share and seed.

    Returns:
        The pairs (originals and duplicates, duplicates interleaved after their
        originals) and the assignments.

    Raises:
        InputError: Too few or repeated annotator ids.
    """
    ids = check_annotators(annotator_ids, config.annotators_per_pair)
    rng = np.random.default_rng([config.seed, 2])
    holders = balanced_holders(len(pairs), len(ids), config.annotators_per_pair, rng)
    left_is_a = rng.random((len(pairs), config.annotators_per_pair)) < 0.5
    assignments: dict[str, list[AssignmentSpec]] = {}
    for pair, who, left in zip(pairs, holders, left_is_a, strict=True):
        assignments[pair.pair_id] = [
            AssignmentSpec(
                pair_id=pair.pair_id,
                annotator_id=ids[a],
                left_trajectory_id=pair.trajectory_a_id if is_a else pair.trajectory_b_id,
            )
            for a, is_a in zip(who, left, strict=True)
        ]
    loads = (
        np.bincount(np.concatenate(holders), minlength=len(ids))
        if holders
        else np.zeros(len(ids), np.int64)
    )
    picks = _pick_duplicates(holders, loads, config.duplicate_count(len(pairs)), rng)
    keys = [float(i) for i in range(len(pairs))]
    ordered: list[PairSpec] = list(pairs)
    for index, annotator in picks:
        original = pairs[index]
        dup = reversed_duplicate(original)
        shown = next(a for a in assignments[original.pair_id] if a.annotator_id == ids[annotator])
        other = (
            dup.trajectory_a_id
            if shown.left_trajectory_id == dup.trajectory_b_id
            else dup.trajectory_b_id
        )
        assignments[dup.pair_id] = [
            AssignmentSpec(
                pair_id=dup.pair_id, annotator_id=ids[annotator], left_trajectory_id=other
            )
        ]
        ordered.append(dup)
        keys.append(index + 0.5 + rng.random() * (len(pairs) - index))
    final = tuple(ordered[i] for i in np.argsort(keys, kind="stable"))
    return final, tuple(a for p in final for a in assignments[p.pair_id])


def reversed_duplicate(pair: PairSpec) -> PairSpec:
    """The pair again with A and B swapped (and the expected answer swapped with them).

    >>> from robopref.types import Stratum
    >>> p = PairSpec(pair_id="p1", trajectory_a_id="x", trajectory_b_id="y", task="t",
    ...              kind=PairKind.GOLD, stratum=Stratum.DISTANT, quartile_a=4, quartile_b=1,
    ...              expected=Choice.A)
    >>> d = reversed_duplicate(p)
    >>> (d.pair_id, d.trajectory_a_id, d.quartile_a, d.expected.value, d.duplicate_of)
    ('p1-r', 'y', 1, 'B', 'p1')
    """
    swapped = {Choice.A: Choice.B, Choice.B: Choice.A, Choice.EQUAL: Choice.EQUAL}
    return replace(
        pair,
        pair_id=f"{pair.pair_id}-r",
        trajectory_a_id=pair.trajectory_b_id,
        trajectory_b_id=pair.trajectory_a_id,
        kind=PairKind.DUPLICATE,
        quartile_a=pair.quartile_b,
        quartile_b=pair.quartile_a,
        expected=None if pair.expected is None else swapped[pair.expected],
        duplicate_of=pair.pair_id,
    )


def _pick_duplicates(
    holders: list[list[int]], loads: np.ndarray, count: int, rng: np.random.Generator
) -> list[tuple[int, int]]:
    """(pair index, annotator) for each duplicate: least-loaded annotator first, one per pair."""
    held: dict[int, list[int]] = {a: [] for a in range(len(loads))}
    for index, who in enumerate(holders):
        for a in who:
            held[a].append(index)
    queues = {a: list(rng.permutation(items)) for a, items in held.items()}
    loads = loads.copy()
    used: set[int] = set()
    picks: list[tuple[int, int]] = []
    while len(picks) < count:
        open_ = [a for a in range(len(loads)) if queues[a]]
        if not open_:
            logger.warning("only %d of %d duplicates could be placed", len(picks), count)
            break
        a = min(open_, key=lambda x: (loads[x], rng.random()))
        index = int(queues[a].pop())
        if index in used:
            continue
        used.add(index)
        picks.append((index, a))
        loads[a] += 1
    return picks

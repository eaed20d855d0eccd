from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest

from robopref.errors import InputError
from robopref.pairs import DIMENSIONS, PairsConfig, calibration_assignments, select_calibration_sets
from robopref.types import BatchKind, Choice, PairKind


def test_calibration_sets_are_disjoint_and_sized(manifest: pd.DataFrame) -> None:
    sets = select_calibration_sets(manifest, PairsConfig(calibration_size=40, calibration_sets=2))
    assert len(sets) == 2
    keys = [
        {frozenset((p.trajectory_a_id, p.trajectory_b_id)) for p in s.batch.pairs} for s in sets
    ]
    assert [len(k) for k in keys] == [40, 40]
    assert not keys[0] & keys[1]
    assert sets[0].batch.batch_id != sets[1].batch.batch_id
    assert all(s.batch.kind == BatchKind.CALIBRATION for s in sets)
    assert all(p.kind == PairKind.CALIBRATION for s in sets for p in s.batch.pairs)


def test_calibration_answers_follow_the_quality_score(manifest: pd.DataFrame) -> None:
    score = dict(zip(manifest["trajectory_id"], manifest["quality_score"], strict=True))
    for s in select_calibration_sets(manifest, PairsConfig()):
        answers = [p.expected for p in s.batch.pairs]
        assert set(answers) == {Choice.A, Choice.B}  # A is not always the right answer
        for p in s.batch.pairs:
            better_a = score[p.trajectory_a_id] > score[p.trajectory_b_id]
            assert p.expected == (Choice.A if better_a else Choice.B)
        distance = {p.pair_id: abs(p.quartile_a - p.quartile_b) for p in s.batch.pairs}
        assert min(distance.values()) >= 1  # never two trajectories of one quartile
        # success splits the score at the median here, so only success pairs can be far apart
        assert all(distance[k] == 3 for k, d in s.dimensions.items() if d == "success")


def test_calibration_covers_each_quality_dimension(manifest: pd.DataFrame) -> None:
    success = dict(zip(manifest["trajectory_id"], manifest["success"], strict=True))
    for s in select_calibration_sets(manifest, PairsConfig(calibration_size=40)):
        counts = pd.Series(s.dimensions).value_counts()
        assert set(counts.index) == set(DIMENSIONS)
        assert counts.min() >= 6
        for p in s.batch.pairs:
            if s.dimensions[p.pair_id] == "success":
                assert success[p.trajectory_a_id] != success[p.trajectory_b_id]


def test_first_set_is_assigned_in_full_and_retests_use_the_other(manifest: pd.DataFrame) -> None:
    first, second = select_calibration_sets(
        manifest, PairsConfig(), annotator_ids=["ann-1", "ann-2"]
    )
    assert len(first.batch.assignments) == 2 * len(first.batch.pairs)
    assert second.batch.assignments == ()
    retest = calibration_assignments(second.batch, "ann-2", seed=0)
    assert [a.pair_id for a in retest] == [p.pair_id for p in second.batch.pairs]
    assert retest == calibration_assignments(second.batch, "ann-2", seed=0)
    left_a = [
        a.left_trajectory_id == p.trajectory_a_id
        for a, p in zip(retest, second.batch.pairs, strict=True)
    ]
    assert 0 < sum(left_a) < len(left_a)


def test_calibration_is_deterministic(manifest: pd.DataFrame) -> None:
    one = select_calibration_sets(manifest, PairsConfig(seed=1))
    two = select_calibration_sets(manifest, PairsConfig(seed=1))
    assert [s.batch for s in one] == [s.batch for s in two]


def test_calibration_needs_enough_clear_pairs(make_manifest: Callable[..., pd.DataFrame]) -> None:
    manifest = make_manifest(tasks=("reach",), n=6)
    with pytest.raises(InputError, match="calibration needs 80 clear-cut pairs"):
        select_calibration_sets(manifest, PairsConfig())


def test_every_calibration_pair_has_a_side_free_rationale(manifest: pd.DataFrame) -> None:
    import re

    rows = manifest.set_index("trajectory_id")
    for s in select_calibration_sets(manifest, PairsConfig(calibration_size=40)):
        for p in s.batch.pairs:
            why = p.rationale or ""
            assert "the better clip" in why.lower() and "other clip" in why
            assert not re.search(r"\b(A|B)\b", why)
            assert not re.search(r"\b(left|right|trajector(y|ies))\b", why, re.IGNORECASE)
            better, other = (
                (p.trajectory_a_id, p.trajectory_b_id) if p.expected == Choice.A
                else (p.trajectory_b_id, p.trajectory_a_id)
            )
            dimension = s.dimensions[p.pair_id]
            if dimension == "success":
                assert why.startswith("The better clip completes the task; the other clip fails")
            if dimension == "collisions":
                hits = int(rows.loc[other, "collisions"])
                assert f"the other clip collides {'once' if hits == 1 else 'twice'}" in why
                assert int(rows.loc[better, "collisions"]) < hits
            if dimension == "efficiency":
                a, b = rows.loc[better, "efficiency_score"], rows.loc[other, "efficiency_score"]
                assert f"(efficiency {a:.2f} vs {b:.2f})" in why

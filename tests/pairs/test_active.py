from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from tests.pairs.conftest import TableEnsemble, truth_of

from robopref.pairs import ActiveConfig, PairsConfig, ScoreCache, select_active, select_pairs
from robopref.pairs.records import PairBatch
from robopref.pool import Pool
from robopref.scoring import TableScorer
from robopref.types import BatchKind, PairKind

ANNOTATORS = ("a1", "a2", "a3", "a4", "a5")


def _active(pool: Pool, scorer: object, **kw: object) -> PairBatch:
    config = kw.pop("config", ActiveConfig(batch_size=60))
    pairs_config = kw.pop("pairs_config", PairsConfig(seed=3))
    return select_active(
        pool, scorer, annotator_ids=ANNOTATORS, config=config,  # type: ignore[arg-type]
        pairs_config=pairs_config, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def _true_gaps(batch: PairBatch, truth: dict[str, float], kind: PairKind) -> np.ndarray:
    return np.array(
        [abs(truth[p.trajectory_a_id] - truth[p.trajectory_b_id]) for p in batch.pairs
         if p.kind == kind]
    )  # fmt: skip


def test_active_pairs_are_closer_in_truth_than_a_stratified_batch(scored_pool: Pool) -> None:
    truth = truth_of(scored_pool)
    batch = _active(scored_pool, TableEnsemble.noisy(truth, noise=0.05))
    random = select_pairs(scored_pool.manifest, PairsConfig(batch_size=60, seed=3),
                          annotator_ids=ANNOTATORS)  # fmt: skip
    active_gap = _true_gaps(batch, truth, PairKind.REGULAR).mean()
    random_gap = _true_gaps(random, truth, PairKind.REGULAR).mean()
    assert batch.kind is BatchKind.ACTIVE
    assert active_gap < 0.5 * random_gap, (active_gap, random_gap)


def test_disagreement_ranks_contested_pairs_first(scored_pool: Pool) -> None:
    """Equal means everywhere: only the members' disagreement tells pairs apart."""
    truth = truth_of(scored_pool)
    rng = np.random.default_rng(1)
    contested = set(rng.choice(sorted(truth), size=40, replace=False).tolist())
    members = {
        k: (np.array([2.0, -2.0, 2.0, -2.0]) if k in contested else np.zeros(4)) for k in truth
    }
    batch = _active(
        scored_pool,
        TableEnsemble(members),
        config=ActiveConfig(
            batch_size=40, gold_frac=0.0, diversity_penalty=0.0, max_per_trajectory=40
        ),
    )
    touched = [bool({p.trajectory_a_id, p.trajectory_b_id} & contested) for p in batch.pairs
               if p.kind == PairKind.REGULAR]  # fmt: skip
    # a random pair touches a contested trajectory with probability 1 - (120/160)(119/159) ≈ 0.44
    assert np.mean(touched) > 0.9


def _uses(batch: PairBatch) -> Counter[str]:
    """How many active pairs each trajectory is in."""
    regular = [p for p in batch.pairs if p.kind == PairKind.REGULAR]
    return Counter(t for p in regular for t in (p.trajectory_a_id, p.trajectory_b_id))


def test_diversity_cap_limits_reuse_of_one_trajectory(scored_pool: Pool) -> None:
    truth = truth_of(scored_pool)
    middle = {k: (0.0 if v == sorted(truth.values())[80] else v) for k, v in truth.items()}
    scorer = TableEnsemble.noisy(middle, noise=0.0, n_members=1)
    capped = _active(
        scored_pool,
        scorer,
        config=ActiveConfig(batch_size=60, diversity_penalty=0.0, max_per_trajectory=2),
    )
    assert max(_uses(capped).values()) <= 2
    loose = _active(
        scored_pool,
        scorer,
        config=ActiveConfig(batch_size=60, diversity_penalty=0.0, max_per_trajectory=60),
    )
    assert max(_uses(loose).values()) > 2  # without the cap, the batch does crowd


def test_gold_and_duplicate_shares_match_stratified_batches(scored_pool: Pool) -> None:
    batch = _active(scored_pool, TableEnsemble.noisy(truth_of(scored_pool)),
                    config=ActiveConfig(batch_size=80))  # fmt: skip
    kinds = Counter(p.kind for p in batch.pairs)
    distinct = kinds[PairKind.REGULAR] + kinds[PairKind.GOLD]
    assert distinct == 80
    assert kinds[PairKind.GOLD] == round(PairsConfig().frac_distant * 80)
    assert kinds[PairKind.DUPLICATE] == PairsConfig().duplicate_count(80)
    gold = [p for p in batch.pairs if p.kind == PairKind.GOLD]
    assert all(abs(p.quartile_a - p.quartile_b) >= 2 and p.expected is not None for p in gold)
    per_pair = Counter(a.pair_id for a in batch.assignments)
    assert {per_pair[p.pair_id] for p in batch.pairs if p.kind != PairKind.DUPLICATE} == {3}


def test_sides_are_randomised(scored_pool: Pool) -> None:
    truth = truth_of(scored_pool)
    batch = _active(scored_pool, TableEnsemble.noisy(truth))
    a_better = [truth[p.trajectory_a_id] > truth[p.trajectory_b_id] for p in batch.pairs]
    assert 0.25 < np.mean(a_better) < 0.75
    left_is_a = [
        a.left_trajectory_id
        == next(p for p in batch.pairs if p.pair_id == a.pair_id).trajectory_a_id
        for a in batch.assignments
    ]
    assert 0.3 < np.mean(left_is_a) < 0.7


def test_same_seed_same_batch_other_seed_other_batch(scored_pool: Pool) -> None:
    scorer = TableEnsemble.noisy(truth_of(scored_pool))
    one, two = _active(scored_pool, scorer), _active(scored_pool, scorer)
    assert one == two
    other = _active(scored_pool, scorer, pairs_config=PairsConfig(seed=4))
    assert {p.pair_id for p in other.pairs} != {p.pair_id for p in one.pairs}


def test_labelled_pairs_are_never_drawn_again(scored_pool: Pool) -> None:
    scorer = TableEnsemble.noisy(truth_of(scored_pool))
    first = _active(scored_pool, scorer)
    labelled = [(p.trajectory_b_id, p.trajectory_a_id) for p in first.pairs]  # either order
    second = _active(scored_pool, scorer, labelled=labelled)
    seen = {frozenset(p) for p in labelled}
    assert not any(frozenset((p.trajectory_a_id, p.trajectory_b_id)) in seen for p in second.pairs)
    assert second.batch_id != first.batch_id


def test_pairs_stay_within_a_task(scored_pool: Pool) -> None:
    batch = _active(scored_pool, TableEnsemble.noisy(truth_of(scored_pool)))
    assert all(" | " not in p.task for p in batch.pairs)


def test_a_second_call_with_the_same_cache_scores_nothing(
    scored_pool: Pool, tmp_path: Path
) -> None:
    scorer = TableEnsemble.noisy(truth_of(scored_pool))
    cache = ScoreCache("sha256-abc", tmp_path)
    first = _active(scored_pool, scorer, cache=cache)
    scored = scorer.calls
    assert scored > 0 and (tmp_path / "sha256-abc.npz").is_file()
    again = _active(scored_pool, scorer, cache=ScoreCache("sha256-abc", tmp_path))  # from disk
    assert scorer.calls == scored and again == first
    _active(scored_pool, scorer, cache=ScoreCache("sha256-other", tmp_path))
    assert scorer.calls > scored  # another model's digest rescored


def test_a_plain_scorer_works_without_disagreement(scored_pool: Pool) -> None:
    truth = truth_of(scored_pool)
    batch = _active(scored_pool, TableScorer(truth))
    assert _true_gaps(batch, truth, PairKind.REGULAR).mean() < 0.2


def test_a_pool_too_small_for_the_gold_share_names_the_quartiles(tmp_path: Path) -> None:
    from robopref.errors import InputError
    from robopref.testing import tiny_pool

    pool = tiny_pool(tmp_path / "small", n=8, frame_size=None)
    with pytest.raises(InputError) as err:
        _active(pool, TableScorer(truth_of(pool)), config=ActiveConfig(batch_size=50))
    assert err.value.field == "quartile"

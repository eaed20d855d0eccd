"""The real reward model and a rewards table are both scorers, and agree on prefer()."""

from __future__ import annotations

import numpy as np
import pytest

from robopref.errors import InputError
from robopref.pool import Pool, Trajectory
from robopref.reward import TrainResult
from robopref.scoring import EnsembleScorer, Scorer, TableScorer, bradley_terry


def as_scorer(scorer: Scorer[Trajectory]) -> Scorer[Trajectory]:
    """Typed: mypy checks that what is passed here satisfies the protocol."""
    return scorer


def test_model_and_table_satisfy_the_protocol_and_agree(
    trained: TrainResult, state_pool: Pool
) -> None:
    model = trained.model
    ids = list(state_pool.manifest["trajectory_id"])
    trajectories = [state_pool[t] for t in ids]
    table = TableScorer(dict(zip(ids, model.score(trajectories).tolist(), strict=True)))
    assert isinstance(model, Scorer) and isinstance(model, EnsembleScorer)
    assert isinstance(table, Scorer) and not isinstance(table, EnsembleScorer)
    a, b = trajectories[::2], trajectories[1::2][::-1]
    p_model, p_table = as_scorer(model).prefer(a, b), as_scorer(table).prefer(a, b)
    assert p_model.shape == (len(a),) and p_model.dtype == np.float64
    np.testing.assert_allclose(p_model, p_table, atol=1e-6)
    np.testing.assert_allclose(p_model + model.prefer(b, a), 1.0, atol=1e-12)
    assert model.prefer(a[0], b[0]) == pytest.approx(float(p_model[0]), abs=1e-6)
    best, worst = trajectories[-1], trajectories[0]
    assert float(table.prefer([best], [worst])[0]) > 0.9  # the model learnt the order
    members = model.score_members(trajectories)
    assert members.shape == (len(ids), model.n_members)
    np.testing.assert_allclose(members.mean(axis=1), model.score(trajectories), atol=1e-6)


def test_table_scorer_refuses_unknown_or_non_finite_rewards(state_pool: Pool) -> None:
    first = state_pool[state_pool.manifest["trajectory_id"][0]]
    table = TableScorer({"other": 1.0}, origin="rewards.parquet")
    with pytest.raises(InputError) as info:
        table.score([first])
    assert (str(info.value.path), info.value.field) == ("rewards.parquet", "trajectory_id")
    with pytest.raises(InputError, match="not finite"):
        TableScorer({"x": float("nan")})
    with pytest.raises(InputError) as info:
        TableScorer({first.trajectory_id: 0.0}).prefer([first, first], [first])
    assert info.value.field == "b"


def test_bradley_terry_is_stable_and_symmetric() -> None:
    r = np.array([-1e6, -3.0, 0.0, 2.5, 1e6])
    p = bradley_terry(r, np.zeros_like(r))
    assert np.isfinite(p).all() and p[0] == 0.0 and p[-1] == 1.0 and p[2] == 0.5
    np.testing.assert_allclose(p + bradley_terry(np.zeros_like(r), r), 1.0)

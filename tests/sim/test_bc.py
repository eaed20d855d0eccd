"""The BC controller's Gaussian sampling: σ from `log_std`, independent or AR(1) noise."""

from __future__ import annotations

import numpy as np
import pytest

from robopref.sim.bc import LOG_STD, BCController, train_bc


@pytest.fixture(scope="module")
def weights() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    demos = [(rng.normal(size=(30, 39)), np.zeros((30, 4))) for _ in range(3)]
    w = train_bc(demos, checkpoints=1, steps=50, seed=0)[-1].weights
    w[LOG_STD] = np.full(4, np.log(0.05), np.float32)  # σ well inside the action box
    return w


def _noise(weights: dict[str, np.ndarray], rho: float, steps: int = 4000) -> np.ndarray:
    obs = np.zeros(39)
    policy = BCController(weights, name="bc", rng=np.random.default_rng(1), noise_correlation=rho)
    mean = BCController(weights, name="bc").act(obs)
    return np.array([policy.act(obs) - mean for _ in range(steps)])


@pytest.mark.parametrize("rho", [0.0, 0.9])
def test_noise_keeps_sigma_and_has_the_asked_correlation(weights: dict, rho: float) -> None:
    eps = _noise(weights, rho)
    assert eps.std(axis=0) == pytest.approx(np.full(4, 0.05), rel=0.15)
    lag1 = np.mean([np.corrcoef(eps[:-1, d], eps[1:, d])[0, 1] for d in range(4)])
    assert lag1 == pytest.approx(rho, abs=0.06)


def test_deterministic_without_rng_and_refuses_bad_settings(weights: dict) -> None:
    a, b = BCController(weights, name="bc"), BCController(weights, name="bc")
    obs = np.ones(39)
    np.testing.assert_array_equal(a.act(obs), b.act(obs))
    with pytest.raises(ValueError, match="noise_correlation"):
        BCController(weights, name="bc", rng=np.random.default_rng(0), noise_correlation=1.0)
    no_std = {k: v for k, v in weights.items() if k != LOG_STD}
    with pytest.raises(ValueError, match="log_std"):
        BCController(no_std, name="old", rng=np.random.default_rng(0))

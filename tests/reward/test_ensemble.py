import numpy as np
import pytest
import torch

from robopref.reward import TrainConfig
from robopref.reward.config import Bootstrap
from robopref.reward.data import PairData
from robopref.reward.ensemble import member_view
from robopref.reward.losses import PairTargets


def pairs(n: int) -> PairData:
    return PairData(
        a=torch.arange(n),
        b=torch.arange(n) + n,
        targets=PairTargets(torch.ones(n), torch.full((n,), 0.5), torch.zeros(n)),
    )


def test_none_keeps_every_pair_as_it_is() -> None:
    view = member_view(pairs(50), Bootstrap.NONE, seed=3)
    assert view.a.tolist() == list(range(50)) and view.targets.weight.tolist() == [0.5] * 50


def test_resample_draws_pairs_with_replacement() -> None:
    view = member_view(pairs(1000), Bootstrap.RESAMPLE, seed=3)
    unique = len(set(view.a.tolist()))
    assert len(view.a) == 1000 and 560 < unique < 700  # ≈ 1 − 1/e of the pairs survive
    assert (view.b - view.a).eq(1000).all()  # A and B rows stay paired


def test_weights_keep_every_pair_with_random_positive_weights() -> None:
    view = member_view(pairs(2000), Bootstrap.WEIGHTS, seed=3)
    other = member_view(pairs(2000), Bootstrap.WEIGHTS, seed=4)
    w = view.targets.weight.numpy() / 0.5  # the pair's own weight is kept as a factor
    assert view.a.tolist() == list(range(2000)) and (w > 0).all()
    assert np.mean(w) == pytest.approx(1.0, abs=0.08) and np.std(w) == pytest.approx(1.0, abs=0.1)
    assert not torch.equal(view.targets.weight, other.targets.weight)


@pytest.mark.parametrize(
    ("given", "expected"),
    [(True, Bootstrap.RESAMPLE), (False, Bootstrap.NONE), ("weights", Bootstrap.WEIGHTS)],
)
def test_bootstrap_accepts_the_old_boolean(given: object, expected: Bootstrap) -> None:
    assert TrainConfig(bootstrap=given).bootstrap is expected  # type: ignore[arg-type]


def test_bad_bootstrap_names_the_field() -> None:
    with pytest.raises(ValueError, match="bootstrap"):
        TrainConfig(bootstrap="jackknife")  # type: ignore[arg-type]


def test_yaml_bootstrap_takes_old_booleans_and_names_the_field_when_wrong() -> None:
    from robopref.reward.config import config_from_dict

    assert config_from_dict({"bootstrap": True}).bootstrap is Bootstrap.RESAMPLE
    assert config_from_dict({"bootstrap": "weights"}).bootstrap is Bootstrap.WEIGHTS
    with pytest.raises(ValueError, match=r"^bootstrap: 'jackknife' is not one of"):
        config_from_dict({"bootstrap": "jackknife"})

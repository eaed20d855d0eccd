import math

import pytest
import torch

from robopref.reward import LossConfig, PairTargets, TieMode, bradley_terry_loss
from robopref.reward.losses import (
    confidence_margins,
    noisy_preference_nll,
    pair_weights,
    tie_margin_nll,
)


def softplus(x: float) -> float:
    return math.log1p(math.exp(x))  # −log σ(−x)


def targets(
    pref: list[float], weight: list[float] | None = None, margin: list[float] | None = None
) -> PairTargets:
    n = len(pref)
    return PairTargets(
        torch.tensor(pref),
        torch.tensor(weight or [1.0] * n),
        torch.tensor(margin or [0.0] * n),
    )


PLAIN = LossConfig(centring=0.0, label_flip=0.0)


@pytest.mark.parametrize(("pref", "expected"), [(1.0, softplus(-1.0)), (0.0, softplus(1.0))])
def test_decisive_pair_is_negative_log_sigmoid_of_difference(pref: float, expected: float) -> None:
    loss = bradley_terry_loss(torch.tensor([1.0]), torch.tensor([0.0]), targets([pref]), PLAIN)
    assert float(loss) == pytest.approx(expected, abs=1e-6)  # −log σ(±1) = 0.3133 / 1.3133


def test_soft_tie_averages_both_directions() -> None:
    loss = bradley_terry_loss(torch.tensor([1.0]), torch.tensor([0.0]), targets([0.5]), PLAIN)
    assert float(loss) == pytest.approx(0.5 * (softplus(-1.0) + softplus(1.0)), abs=1e-6)


def test_margin_tie_is_negative_log_sigmoid_of_margin_minus_gap() -> None:
    config = LossConfig(tie_mode=TieMode.MARGIN, tie_margin=0.3, centring=0.0)
    for gap in (1.0, -1.0):  # symmetric in A/B
        loss = bradley_terry_loss(torch.tensor([gap]), torch.tensor([0.0]), targets([0.5]), config)
        assert float(loss) == pytest.approx(softplus(-(0.3 - 1.0)), abs=1e-6)  # 1.1032
    close = bradley_terry_loss(torch.tensor([0.0]), torch.tensor([0.0]), targets([0.5]), config)
    assert float(close) == pytest.approx(softplus(-0.3), abs=1e-6)  # 0.5544


def test_margin_tie_gradient_pulls_rewards_together() -> None:
    r_a = torch.tensor([2.0], requires_grad=True)
    r_b = torch.tensor([0.0], requires_grad=True)
    tie_margin_nll(r_a - r_b, 0.3).sum().backward()
    assert r_a.grad is not None and r_b.grad is not None
    assert float(r_a.grad) > 0 > float(r_b.grad)  # descent lowers r_a, raises r_b


def test_weights_make_a_weighted_mean() -> None:
    r_a, r_b = torch.tensor([1.0, 1.0]), torch.tensor([0.0, 0.0])
    loss = bradley_terry_loss(r_a, r_b, targets([1.0, 0.0], weight=[3.0, 1.0]), PLAIN)
    assert float(loss) == pytest.approx((3 * softplus(-1.0) + softplus(1.0)) / 4, abs=1e-6)
    only_first = bradley_terry_loss(r_a, r_b, targets([1.0, 0.0], weight=[1.0, 0.0]), PLAIN)
    assert float(only_first) == pytest.approx(softplus(-1.0), abs=1e-6)


def test_pair_weights_from_confidence_and_agreement() -> None:
    conf, agree = torch.tensor([5.0, 2.5]), torch.tensor([1.0, 0.5])
    assert pair_weights(conf, agree, LossConfig()).tolist() == pytest.approx([1.0, 0.25])
    only_conf = LossConfig(weight_by_agreement=False)
    assert pair_weights(conf, agree, only_conf).tolist() == pytest.approx([1.0, 0.5])
    none = LossConfig(weight_by_agreement=False, weight_by_confidence=False)
    assert pair_weights(conf, agree, none).tolist() == [1.0, 1.0]


def test_per_pair_margin_shifts_the_winners_lead() -> None:
    margins = confidence_margins(torch.tensor([5.0, 1.0, 3.0]), LossConfig(confidence_margin=0.5))
    assert margins.tolist() == pytest.approx([0.5, 0.0, 0.25])
    # A wins by 1 with margin 0.5 → −log σ(0.5); B wins by 1 → the same.
    loss = bradley_terry_loss(
        torch.tensor([1.0, 0.0]),
        torch.tensor([0.0, 1.0]),
        targets([1.0, 0.0], margin=[0.5, 0.5]),
        PLAIN,
    )
    assert float(loss) == pytest.approx(softplus(-0.5), abs=1e-6)


def test_centring_adds_mean_squared_pair_sum() -> None:
    config = LossConfig(centring=0.1, label_flip=0.0)
    base = bradley_terry_loss(torch.tensor([1.0]), torch.tensor([1.0]), targets([1.0]), PLAIN)
    centred = bradley_terry_loss(torch.tensor([1.0]), torch.tensor([1.0]), targets([1.0]), config)
    assert float(centred - base) == pytest.approx(0.1 * 4.0, abs=1e-6)


def test_label_flip_is_the_mistake_teacher_likelihood() -> None:
    flip = 0.1
    config = LossConfig(centring=0.0, label_flip=flip)
    for d in (-3.0, 0.0, 2.0):
        p_a = flip + (1 - 2 * flip) / (1 + math.exp(-d))
        for pref, expected in ((1.0, -math.log(p_a)), (0.0, -math.log(1 - p_a))):
            loss = bradley_terry_loss(
                torch.tensor([d]), torch.tensor([0.0]), targets([pref]), config
            )
            assert float(loss) == pytest.approx(expected, abs=1e-5)


def test_label_flip_bounds_the_cost_and_pull_of_a_wrong_label() -> None:
    wrong = torch.tensor([-20.0], requires_grad=True)  # A is far behind, yet labelled better
    plain = noisy_preference_nll(wrong, torch.tensor([1.0]), 0.0)
    robust = noisy_preference_nll(wrong, torch.tensor([1.0]), 0.1)
    assert float(plain.detach()) == pytest.approx(20.0, abs=1e-3)
    assert float(robust.detach()) < -math.log(0.1) + 1e-6  # at most −log(flip)
    robust.backward()
    assert wrong.grad is not None and abs(float(wrong.grad)) < 1e-6  # no pull towards the label


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("tie_margin", {"tie_margin": -0.1}),
        ("centring", {"centring": -1.0}),
        ("tie_mode", {"tie_mode": "hinge"}),
        ("label_flip", {"label_flip": 0.5}),
    ],
)
def test_bad_loss_config_names_the_field(field: str, kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=field):
        LossConfig(**kwargs)  # type: ignore[arg-type]

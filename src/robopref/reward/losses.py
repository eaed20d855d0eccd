"""The Bradley–Terry preference loss with ties, per-pair weights and margins, and centring."""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F

from robopref.reward.config import LossConfig, TieMode


class PairTargets(NamedTuple):
    """Labels of a batch of B pairs, as float32 tensors of shape (B,).

    Attributes:
        preference: 1.0 A preferred, 0.0 B preferred, 0.5 tie (any value in [0, 1] is a soft
            target).
        weight: Per-pair loss weight ≥ 0.
        margin: Per-pair margin ≥ 0 for decisive pairs (0 = plain Bradley–Terry).
    """

    preference: torch.Tensor
    weight: torch.Tensor
    margin: torch.Tensor


def preference_nll(diff: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-pair Bradley–Terry negative log-likelihood with (soft) targets.

    P(A ≻ B) = σ(r(A) − r(B)) (Bradley & Terry 1952; Christiano et al. 2017; seed 001,
    seed 004 §'Train'), so the loss is −[y log σ(d) + (1 − y) log σ(−d)] with d = r(A) − r(B);
    y = 1 gives −log σ(d), and y = 0.5 is seed 004's soft label for ties.

    Args:
        diff: (B,) r(A) − r(B).
        target: (B,) y in [0, 1].

    Returns:
        (B,) losses.

    >>> round(float(preference_nll(torch.tensor([0.0]), torch.tensor([1.0]))[0]), 4)
    0.6931
    """
    return F.binary_cross_entropy_with_logits(diff, target, reduction="none")


def noisy_preference_nll(diff: torch.Tensor, target: torch.Tensor, flip: float) -> torch.Tensor:
    """Per-pair NLL under a labeller who flips the Bradley–Terry answer with probability `flip`.

    P(label A) = flip + (1 − 2·flip)·σ(d): the likelihood of B-Pref's 'mistake' teacher (Lee et
    al. 2021), the robust BT of RIME (Cheng et al. 2024, ε-mixture). A flipped label then costs
    at most −log(flip) instead of growing without bound, so a few wrong labels cannot drag the
    reward of a trajectory far; `flip = 0` is `preference_nll`.

    Args:
        diff: (B,) r(A) − r(B).
        target: (B,) y in [0, 1].
        flip: Assumed flip probability in [0, 0.5).

    Returns:
        (B,) losses.

    >>> d, y = torch.tensor([3.0, -3.0]), torch.tensor([1.0, 1.0])
    >>> torch.allclose(noisy_preference_nll(d, y, 0.0), preference_nll(d, y))
    True
    >>> bool(noisy_preference_nll(torch.tensor([-50.0]), torch.tensor([1.0]), 0.1) < 2.31)
    True
    """
    if flip <= 0:
        return preference_nll(diff, target)
    log_a = torch.logaddexp(
        torch.full_like(diff, math.log(flip)), math.log1p(-2 * flip) + F.logsigmoid(diff)
    )
    log_b = torch.logaddexp(
        torch.full_like(diff, math.log(flip)), math.log1p(-2 * flip) + F.logsigmoid(-diff)
    )
    return -(target * log_a + (1.0 - target) * log_b)


def tie_margin_nll(diff: torch.Tensor, margin: float) -> torch.Tensor:
    """Per-pair tie loss −log σ(margin − |r(A) − r(B)|): small when the rewards are close.

    Seed 004 prints the tie term as −log σ(|r(A) − r(B)| − margin); that sign would push tied
    rewards apart, so we use the form that pulls them within `margin` (the issue's wording).

    Args:
        diff: (B,) r(A) − r(B).
        margin: The tie margin (0.1–0.5 in seed 004).

    Returns:
        (B,) losses.

    >>> round(float(tie_margin_nll(torch.tensor([0.0]), 0.0)[0]), 4)
    0.6931
    """
    return -F.logsigmoid(margin - diff.abs())


def reward_centring(r_a: torch.Tensor, r_b: torch.Tensor) -> torch.Tensor:
    """Mean of (r(A) + r(B))²: keeps rewards near zero, which BT alone leaves free.

    Eisenstein et al. 2023 ('Helping or Herding? Reward Model Ensembles Mitigate but do not
    Eliminate Reward Hacking', §3) add this term so ensemble members share an offset.

    >>> float(reward_centring(torch.tensor([1.0]), torch.tensor([-1.0])))
    0.0
    """
    return ((r_a + r_b) ** 2).mean()


def pair_weights(
    confidence_mean: torch.Tensor, agreement: torch.Tensor, config: LossConfig
) -> torch.Tensor:
    """Per-pair weights: confidence_mean / 5 and/or agreement, as `config` asks.

    Seed 004: 'low-confidence comparisons can be downweighted during training using sample
    weights proportional to confidence'; agreement (fraction with the majority) downweights
    contested pairs the same way.

    Args:
        confidence_mean: (B,) mean annotator confidence on the 1–5 scale.
        agreement: (B,) in [0, 1].
        config: Which factors to use.

    Returns:
        (B,) weights in [0, 1].
    """
    weight = torch.ones_like(confidence_mean)
    if config.weight_by_confidence:
        weight = weight * (confidence_mean / 5.0).clamp(0.0, 1.0)
    if config.weight_by_agreement:
        weight = weight * agreement.clamp(0.0, 1.0)
    return weight


def confidence_margins(confidence_mean: torch.Tensor, config: LossConfig) -> torch.Tensor:
    """Per-pair margins confidence_margin × (confidence_mean − 1) / 4, clipped to [0, c].

    A margin that grows with how clear the preference was, as in Llama 2's reward model
    (Touvron et al. 2023, §3.2.2: −log σ(r_chosen − r_rejected − m(r))).
    """
    scaled = ((confidence_mean - 1.0) / 4.0).clamp(0.0, 1.0)
    return config.confidence_margin * scaled


def bradley_terry_loss(
    r_a: torch.Tensor, r_b: torch.Tensor, targets: PairTargets, config: LossConfig
) -> torch.Tensor:
    """The weighted mean per-pair loss plus the centring term.

    Decisive pairs (y ≠ 0.5) use the BT likelihood with their margin subtracted from the
    winner's lead: d' = d − m (y = 1) or d + m (y = 0). Ties use the soft target or the
    margin form (`config.tie_mode`). The weighted mean divides by the sum of weights.

    Args:
        r_a: (B,) rewards of the A trajectories.
        r_b: (B,) rewards of the B trajectories.
        targets: Preferences, weights and margins of the B pairs.
        config: Loss options.

    Returns:
        A scalar tensor.
    """
    diff = (r_a - r_b).float()
    pref = targets.preference
    is_tie = (pref - 0.5).abs() < 1e-6
    sign = torch.where(pref > 0.5, 1.0, torch.where(pref < 0.5, -1.0, 0.0))
    decisive = noisy_preference_nll(diff - sign * targets.margin, pref, config.label_flip)
    if config.tie_mode is TieMode.MARGIN:
        per_pair = torch.where(is_tie, tie_margin_nll(diff, config.tie_margin), decisive)
    else:
        per_pair = decisive
    total_weight = targets.weight.sum().clamp_min(1e-8)
    loss = (per_pair * targets.weight).sum() / total_weight
    if config.centring > 0:
        loss = loss + config.centring * reward_centring(r_a.float(), r_b.float())
    return loss

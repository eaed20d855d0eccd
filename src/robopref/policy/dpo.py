"""Direct preference optimisation of the policy from the pairs, with no reward model.

CPL (Hejna et al. 2023) and DPO (Rafailov et al. 2023) read the policy's own log-likelihood
ratio to the reference as an implicit reward, r(τ) = α·[log π(τ) − log π_ref(τ)], and fit
it to the preferences with the Bradley–Terry loss

    L = −log σ(r(τ_w) − r(τ_l))

on whole trajectories. Here log π(τ) is the **mean** per-step log-probability over the
trajectory's steps (a random subsample of at most `max_steps_per_segment` of them each
step), not the sum: successful Meta-World episodes stop a few steps after success while
failures run to the step limit, and a sum would let length alone move the implicit reward
(and make α depend on the episode length); the mean of a subsample stays an unbiased
estimate of the full mean. A tie (0.5) is a soft target, BCE(σ(r_A − r_B), 0.5), which pulls
the two rewards together. CPL's conservative term, `bc_weight`·(−log π) on the preferred
trajectory (both halves of a tie at half weight), optionally regularises towards the data.
α is the KL strength: a larger α reaches a given margin with a smaller change of π.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from robopref.errors import InputError, shown
from robopref.policy.config_checks import is_finite, is_int
from robopref.policy.gaussian import GaussianPolicy
from robopref.policy.iql import one_torch_thread
from robopref.pool.trajectory import Trajectory
from robopref.progress import ProgressCallback, no_progress

PREFERENCE_VALUES = (0.0, 0.5, 1.0)
"""Accepted preferences: B preferred, tie, A preferred."""
COLUMNS = ("trajectory_a_id", "trajectory_b_id", "preference")
"""Columns of the preferences table that are read."""


@dataclass(frozen=True, kw_only=True)
class DPOConfig:
    """One direct preference optimisation run."""

    alpha: float = 1.0
    """α of the implicit reward α·(mean log π − mean log π_ref): larger stays closer to π_ref."""
    steps: int = 500
    """Gradient steps (0 returns a copy of the reference)."""
    batch: int = 32
    """Pairs per minibatch (drawn with replacement)."""
    lr: float = 1e-4
    """Adam learning rate."""
    bc_weight: float = 0.5
    """λ of CPL's conservative BC term −log π on the preferred trajectory (0: none). Without
    it the preference loss keeps gaining by moving π away from the rejected actions (the
    difference of two implicit rewards is linear in the mean's shift, with no quadratic
    restraint): on a 40-trajectory reach-v3 pool, 400 true-return pairs, BC reference at
    67.5% success (40 episodes), λ 0.5 kept 67.5%, λ 0.05 fell to 5%, λ 0 with α 10 or 100
    to 12.5–15%, although λ 0 orders more training pairs (0.95 against 0.79)."""
    max_steps_per_segment: int = 64
    """Steps of each trajectory used per minibatch, a fresh random subsample each step."""
    seed: int = 0
    """Seed of minibatches and subsamples."""
    log_every: int = 50
    """Steps per logged interval (losses averaged over it)."""

    def __post_init__(self) -> None:
        """Raises InputError("DPOConfig", field, message) for a value out of range."""
        for name in ("batch", "max_steps_per_segment", "log_every"):
            value = getattr(self, name)
            if not is_int(value) or value < 1:
                _bad(name, f"must be a positive integer, got {value!r}")
        if not is_int(self.steps) or self.steps < 0:
            _bad("steps", f"must be an integer ≥ 0, got {self.steps!r}")
        for name in ("alpha", "lr"):
            value = getattr(self, name)
            if not is_finite(value) or value <= 0:
                _bad(name, f"must be a positive number, got {value!r}")
        if not is_finite(self.bc_weight) or self.bc_weight < 0:
            _bad("bc_weight", f"must be a number ≥ 0, got {self.bc_weight!r}")
        if not is_int(self.seed):
            _bad("seed", f"must be an integer, got {self.seed!r}")


def _bad(name: str, message: str) -> None:
    raise InputError("DPOConfig", name, message)


@dataclass(frozen=True, kw_only=True)
class DPOStats:
    """Means over one logged interval of steps."""

    step: int
    """Steps done at the end of the interval."""
    loss: float
    """Preference (BCE) loss."""
    bc_loss: float
    """−log π per step on the preferred trajectories (reported even when λ = 0)."""
    accuracy: float
    """Minibatch pairs (ties left out) whose implicit reward orders them as labelled."""


@dataclass(frozen=True, kw_only=True)
class DPOResult:
    """What `train_dpo` returns."""

    policy: GaussianPolicy
    """The trained policy (gradients on; `weights()` for rollouts)."""
    history: tuple[DPOStats, ...]
    """One entry per logged interval."""
    accuracy: float
    """Training pairs (ties left out) ordered as labelled by the implicit reward on every
    step; equal rewards count half; NaN when every pair is a tie."""
    kl: float
    """Mean KL(π ‖ π_ref) over every state of the trajectories in the pairs."""


@dataclass(frozen=True)
class _Packed:
    """The trajectories of the pairs, padded to the longest."""

    ids: list[str]
    obs: torch.Tensor  # (U, T, S)
    action: torch.Tensor  # (U, T, A)
    length: torch.Tensor  # (U,) int64
    mask: torch.Tensor  # (U, T) bool, True on real steps


def train_dpo(
    prefs: pd.DataFrame,
    trajectories: Mapping[str, Trajectory],
    reference: GaussianPolicy,
    config: DPOConfig | None = None,
    *,
    progress: ProgressCallback = no_progress,
) -> DPOResult:
    """Fit the policy's implicit reward to the preference pairs, starting at `reference`.

    Args:
        prefs: Preferences (`robopref.schemas.PREFERENCES_SCHEMA`: `trajectory_a_id`,
            `trajectory_b_id`, `preference` 1.0 = A preferred, 0.0 = B, 0.5 = tie).
        trajectories: Every trajectory the pairs name, by id.
        reference: The BC reference policy; it is copied, never changed.
        config: The run; None takes the defaults.
        progress: Called as (steps done, steps) after each logged interval.

    Returns:
        The trained policy, its loss history, its training-pair accuracy and KL.

    Raises:
        InputError: A missing column, an id not in `trajectories`, a preference outside
            {0, 0.5, 1}, no pairs, or trajectory widths that differ from the reference's.
    """
    config = config or DPOConfig()
    a_ids, b_ids, pref = _read_pairs(prefs, trajectories)
    with one_torch_thread():
        gen = torch.Generator().manual_seed(config.seed)
        anchor = reference.frozen_copy()
        policy = GaussianPolicy(reference.weights())
        packed = _pack([*dict.fromkeys([*a_ids, *b_ids])], trajectories, reference)
        row = {tid: i for i, tid in enumerate(packed.ids)}
        a = torch.tensor([row[t] for t in a_ids])
        b = torch.tensor([row[t] for t in b_ids])
        target = torch.tensor(pref, dtype=torch.float32)
        with torch.no_grad():
            ref_logp = _step_log_probs(anchor, packed.obs, packed.action)
        optimiser = torch.optim.Adam(policy.parameters(), lr=config.lr)
        k = min(config.max_steps_per_segment, packed.obs.shape[1])
        history: list[DPOStats] = []
        sums, count, decided = np.zeros(3), 0, 0
        progress(0, config.steps)
        for step in range(1, config.steps + 1):
            pick = torch.randint(0, len(a), (config.batch,), generator=gen)
            p = target[pick]
            logp, ref = _segment_log_probs(policy, packed, ref_logp, a[pick], b[pick], k, gen)
            reward = config.alpha * (logp - ref)
            r_a, r_b = reward.chunk(2)
            loss = F.binary_cross_entropy_with_logits(r_a - r_b, p)
            logp_a, logp_b = logp.chunk(2)
            bc_loss = -(p * logp_a + (1.0 - p) * logp_b).mean()
            total = loss + config.bc_weight * bc_loss if config.bc_weight > 0 else loss
            optimiser.zero_grad()
            total.backward()  # type: ignore[no-untyped-call]
            optimiser.step()
            acc = _accuracy(r_a - r_b, p)  # NaN for an all-tie minibatch: left out
            sums += [loss.item(), bc_loss.item(), 0.0 if math.isnan(acc) else acc]
            count, decided = count + 1, decided + (not math.isnan(acc))
            if step % config.log_every == 0 or step == config.steps:
                loss_m, bc_m = (float(x) for x in sums[:2] / count)
                acc_m = float(sums[2] / decided) if decided else float("nan")
                history.append(DPOStats(step=step, loss=loss_m, bc_loss=bc_m, accuracy=acc_m))
                sums[:], count, decided = 0.0, 0, 0
                progress(step, config.steps)
        with torch.no_grad():
            full = packed.mask
            logp_all = _masked_mean(_step_log_probs(policy, packed.obs, packed.action), full)
            rewards = config.alpha * (logp_all - _masked_mean(ref_logp, full))
            accuracy = _accuracy(rewards[a] - rewards[b], target)
            states = packed.obs[packed.mask]
            kl = float(policy.kl_to(anchor, states).mean())
    return DPOResult(policy=policy, history=tuple(history), accuracy=accuracy, kl=kl)


def implicit_rewards(
    policy: GaussianPolicy,
    reference: GaussianPolicy,
    trajectories: Mapping[str, Trajectory],
    *,
    alpha: float = 1.0,
) -> dict[str, float]:
    """α·(mean log π − mean log π_ref) over every step of each trajectory, by id.

    The reward a DPO-trained policy implies; it ranks held-out pairs like a reward model.

    Raises:
        InputError: A trajectory whose widths differ from the reference's.
    """
    if not trajectories:
        return {}
    with one_torch_thread(), torch.no_grad():
        packed = _pack(list(trajectories), trajectories, reference)
        full = packed.mask
        logp = _masked_mean(_step_log_probs(policy, packed.obs, packed.action), full)
        ref = _masked_mean(_step_log_probs(reference, packed.obs, packed.action), full)
        values = (alpha * (logp - ref)).tolist()
    return dict(zip(packed.ids, values, strict=True))


def _read_pairs(
    prefs: pd.DataFrame, trajectories: Mapping[str, Trajectory]
) -> tuple[list[str], list[str], list[float]]:
    for column in COLUMNS:
        if column not in prefs.columns:
            raise InputError("preferences", column, "missing column")
    if len(prefs) == 0:
        raise InputError("preferences", "preference", "no pairs to train on")
    a_ids = [str(t) for t in prefs["trajectory_a_id"]]
    b_ids = [str(t) for t in prefs["trajectory_b_id"]]
    for column, ids in (("trajectory_a_id", a_ids), ("trajectory_b_id", b_ids)):
        missing = [t for t in ids if t not in trajectories]
        if missing:
            raise InputError(
                "preferences",
                column,
                f"{len(missing)} id(s) not among the trajectories, e.g. {shown(missing[0])}",
            )
    pref = pd.to_numeric(prefs["preference"], errors="coerce").to_numpy(np.float64)
    bad = ~np.isin(pref, PREFERENCE_VALUES)
    if bad.any():
        raw = prefs["preference"].iloc[int(np.flatnonzero(bad)[0])]
        raise InputError(
            "preferences",
            "preference",
            f"{int(bad.sum())} value(s) outside {{0, 0.5, 1}}, e.g. {shown(raw)}",
        )
    return a_ids, b_ids, pref.tolist()


def _pack(
    ids: list[str], trajectories: Mapping[str, Trajectory], reference: GaussianPolicy
) -> _Packed:
    obs_dim, action_dim = int(reference.obs_mean.shape[0]), reference.action_dim
    for tid in ids:
        traj = trajectories[tid]
        for name, width in (("state", obs_dim), ("action", action_dim)):
            got = getattr(traj, name).shape[1]
            if got != width:
                raise InputError(
                    f"trajectory {shown(tid)}",
                    name,
                    f"width {got}, the reference policy's is {width}",
                )
    lengths = [trajectories[t].n_steps for t in ids]
    t_max = max(lengths)
    obs = np.zeros((len(ids), t_max, obs_dim), np.float32)
    action = np.zeros((len(ids), t_max, action_dim), np.float32)
    for i, tid in enumerate(ids):
        traj = trajectories[tid]
        obs[i, : traj.n_steps] = traj.state
        action[i, : traj.n_steps] = traj.action
    length = torch.tensor(lengths, dtype=torch.int64)
    return _Packed(
        ids=ids,
        obs=torch.from_numpy(obs),
        action=torch.from_numpy(action),
        length=length,
        mask=torch.arange(t_max)[None, :] < length[:, None],
    )


def _step_log_probs(
    policy: GaussianPolicy, obs: torch.Tensor, action: torch.Tensor
) -> torch.Tensor:
    """Per-step log π(a | s) for (N, T, ·) arrays of states and actions → (N, T)."""
    n, t = obs.shape[:2]
    return policy.log_prob(obs.reshape(n * t, -1), action.reshape(n * t, -1)).reshape(n, t)


def _segment_log_probs(
    policy: GaussianPolicy,
    packed: _Packed,
    ref_logp: torch.Tensor,
    a: torch.Tensor,
    b: torch.Tensor,
    k: int,
    gen: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean log π and mean log π_ref over a subsample of k steps of trajectories a, then b.

    Returns:
        Two (2·len(a),) tensors, the A sides first; π's keeps its graph.
    """
    rows = torch.cat([a, b])
    steps = _subsample(packed, rows, k, gen)
    valid = steps < packed.length[rows, None]
    obs = packed.obs[rows[:, None], steps]
    act = packed.action[rows[:, None], steps]
    logp = _masked_mean(_step_log_probs(policy, obs, act), valid)
    return logp, _masked_mean(ref_logp[rows[:, None], steps], valid)


def _subsample(packed: _Packed, rows: torch.Tensor, k: int, gen: torch.Generator) -> torch.Tensor:
    """(len(rows), k) step indices: a random subset of each trajectory's real steps.

    A trajectory shorter than k gets all its steps, then padding (masked out by the caller).
    """
    keys = torch.rand(len(rows), packed.obs.shape[1], generator=gen)
    keys = keys.masked_fill(~packed.mask[rows], 2.0)
    return keys.argsort(dim=1)[:, :k]


def _masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    weights = mask.to(values.dtype)
    return (values * weights).sum(-1) / weights.sum(-1).clamp_min(1.0)


def _accuracy(margin: torch.Tensor, target: torch.Tensor) -> float:
    """Share of non-tie pairs whose margin has the label's sign (zero margin counts half)."""
    decided = target != 0.5
    if not bool(decided.any()):
        return float("nan")
    sign = torch.sign(margin[decided].detach())
    wanted = torch.where(target[decided] > 0.5, 1.0, -1.0)
    return float(((sign * wanted + 1.0) / 2.0).mean())


__all__ = ["DPOConfig", "DPOResult", "DPOStats", "implicit_rewards", "train_dpo"]

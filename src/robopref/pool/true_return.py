"""The simulator's own return of a trajectory: benchmark ground truth, never a model input.

Simulated pools record the env's dense reward per step (`Trajectory.env_reward`). Episodes
end a few steps after success, so a plain sum would favour slow trajectories; the return
is therefore taken to the task's horizon with the final state held (an absorbing end):

    true_return = Σ_t r_t + r_{T−1} · max(0, H − T),   H = round(horizon_s · fps)

Imported trajectories without a reward series have none (null in the manifest).
"""

from __future__ import annotations

import math

from robopref.pool.trajectory import Trajectory, is_number


def true_return(traj: Trajectory) -> float | None:
    """The horizon-padded env return of `traj`, or None without `env_reward`."""
    reward = traj.env_reward
    if reward is None:
        return None
    total = float(reward.astype("float64").sum())
    horizon_s = traj.metadata.get("horizon_s")
    if is_number(horizon_s) and math.isfinite(float(horizon_s)):
        missing = max(0, round(float(horizon_s) * traj.fps) - traj.n_steps)
        total += float(reward[-1]) * missing
    return total

"""Per-trajectory metrics (seed 000/004): success, collisions, clearance, efficiency, smoothness."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from robopref.pool.config import MetricsConfig
from robopref.pool.trajectory import ContactLog, Trajectory


@dataclass(frozen=True)
class TrajectoryMetrics:
    """Metrics of one trajectory; the field names are manifest columns."""

    success: bool
    time_to_success_s: float | None
    collisions: int
    minor_collisions: int
    major_collisions: int
    peak_force_n: float
    min_clearance_m: float | None
    frac_under_5cm: float | None
    frac_under_2cm: float | None
    path_length_m: float
    straight_line_m: float
    path_efficiency: float
    jerk: float
    jerk_log_dimensionless: float
    gripper_changes: int
    gripper_closed_frac: float
    progress: float | None
    final_goal_distance_m: float | None

    def as_row(self) -> dict[str, float | int | bool | None]:
        """The metrics as one manifest row fragment."""
        return asdict(self)


def compute_metrics(traj: Trajectory, config: MetricsConfig | None = None) -> TrajectoryMetrics:
    """Compute every metric of `traj` that its data allows.

    Args:
        traj: The trajectory.
        config: Thresholds; defaults to `MetricsConfig()`.

    Returns:
        The metrics. Clearance and progress are None when the trajectory lacks the series.
    """
    config = config or MetricsConfig()
    minor, major, peak = count_collisions(traj.contacts, config)
    path_length, straight = path_lengths(traj.ee_pos)
    clearance = traj.clearance
    goal = traj.goal_distance
    return TrajectoryMetrics(
        success=bool(traj.success),
        time_to_success_s=(
            float(traj.times_s[traj.success_step] - traj.times_s[0])
            if traj.success_step is not None
            else None
        ),
        collisions=minor + major,
        minor_collisions=minor,
        major_collisions=major,
        peak_force_n=peak,
        min_clearance_m=None if clearance is None else float(clearance.min()),
        frac_under_5cm=None if clearance is None else float(np.mean(clearance < config.near_m)),
        frac_under_2cm=None if clearance is None else float(np.mean(clearance < config.danger_m)),
        path_length_m=path_length,
        straight_line_m=straight,
        path_efficiency=path_efficiency(path_length, straight),
        jerk=mean_squared_jerk(traj.ee_pos, traj.fps),
        jerk_log_dimensionless=log_dimensionless_jerk(traj.ee_pos, traj.fps),
        gripper_changes=gripper_changes(traj.gripper, config),
        gripper_closed_frac=float(np.mean(gripper_states(traj.gripper, config) == 0)),
        progress=None if goal is None else progress(goal),
        final_goal_distance_m=None if goal is None else float(goal[-1]),
    )


def count_collisions(contacts: ContactLog, config: MetricsConfig) -> tuple[int, int, float]:
    """Group contact samples into collision events and grade them.

    Samples with one body no more than `contact_gap_steps` apart form one event; an event
    is major when its peak force reaches `major_force_n` or it includes a toppled object.

    Returns:
        (minor events, major events, peak force in N over all samples).
    """
    minor = major = 0
    for body in np.unique(contacts.body):
        mask = contacts.body == body
        steps, forces, toppled = contacts.step[mask], contacts.force_n[mask], contacts.toppled[mask]
        order = np.argsort(steps, kind="stable")
        steps, forces, toppled = steps[order], forces[order], toppled[order]
        breaks = np.flatnonzero(np.diff(steps) > config.contact_gap_steps) + 1
        for idx in np.split(np.arange(len(steps)), breaks):
            if toppled[idx].any() or forces[idx].max() >= config.major_force_n:
                major += 1
            else:
                minor += 1
    peak = float(contacts.force_n.max()) if len(contacts) else 0.0
    return minor, major, peak


def path_lengths(ee_pos: np.ndarray) -> tuple[float, float]:
    """(actual path length, straight-line distance start → end), both in metres.

    >>> path_lengths(np.array([[0, 0, 0], [3, 0, 0], [3, 4, 0]], float))
    (7.0, 5.0)
    """
    steps = np.linalg.norm(np.diff(ee_pos.astype(np.float64), axis=0), axis=1)
    straight = np.linalg.norm(ee_pos[-1].astype(np.float64) - ee_pos[0])
    return float(steps.sum()), float(straight)


def path_efficiency(path_length_m: float, straight_line_m: float) -> float:
    """Straight-line over actual distance, in [0, 1]; 1 for a path that does not move.

    >>> path_efficiency(7.0, 5.0)
    0.7142857142857143
    """
    if path_length_m <= 1e-9:
        return 1.0
    return float(min(1.0, straight_line_m / path_length_m))


def _jerk(ee_pos: np.ndarray, fps: float) -> np.ndarray:
    """(T-3, 3) third finite difference of position, m/s³."""
    return np.diff(ee_pos.astype(np.float64), n=3, axis=0) * fps**3


def mean_squared_jerk(ee_pos: np.ndarray, fps: float) -> float:
    """Mean squared end-effector jerk |d³x/dt³|² in m²/s⁶ (0 for fewer than 4 steps).

    >>> t = np.arange(10) / 10.0
    >>> round(mean_squared_jerk(np.stack([2 * t**3, 0 * t, 0 * t], 1), 10.0), 6)
    144.0
    """
    if len(ee_pos) < 4:
        return 0.0
    return float(np.mean(np.sum(_jerk(ee_pos, fps) ** 2, axis=1)))


def log_dimensionless_jerk(ee_pos: np.ndarray, fps: float) -> float:
    """log10 of the dimensionless squared jerk ∫|j|² dt · D⁵ / L² (Hogan & Sternad 2009).

    Normalising by duration D and path length L makes the value comparable across speeds
    and distances; a minimum-jerk reach scores about 2.9, tremor and hesitation score higher.
    Returns 0 for a trajectory that barely moves.
    """
    path_length, _ = path_lengths(ee_pos)
    if len(ee_pos) < 4 or path_length < 1e-6:
        return 0.0
    duration = (len(ee_pos) - 1) / fps
    integral = mean_squared_jerk(ee_pos, fps) * duration
    return float(np.log10(integral * duration**5 / path_length**2 + 1.0))


def gripper_states(gripper: np.ndarray, config: MetricsConfig) -> np.ndarray:
    """(T,) int8 binary gripper state with hysteresis: 1 open, 0 closed."""
    state = np.empty(len(gripper), np.int8)
    current = 1 if gripper[0] >= config.gripper_closed_below else 0
    for i, g in enumerate(gripper):
        if current == 1 and g < config.gripper_closed_below:
            current = 0
        elif current == 0 and g > config.gripper_open_above:
            current = 1
        state[i] = current
    return state


def gripper_changes(gripper: np.ndarray, config: MetricsConfig) -> int:
    """Number of open↔closed transitions (oscillation shows as many)."""
    return int(np.count_nonzero(np.diff(gripper_states(gripper, config))))


def progress(goal_distance: np.ndarray) -> float:
    """Fraction of the initial goal distance closed by the end, clipped to [0, 1].

    >>> progress(np.array([0.4, 0.3, 0.1]))
    0.75
    """
    start = float(goal_distance[0])
    if start <= 1e-9:
        return 1.0
    return float(np.clip(1.0 - goal_distance[-1] / start, 0.0, 1.0))

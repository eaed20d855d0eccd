"""Configuration of the pool stage: metrics thresholds, rubric weights, generation, ingest."""

from __future__ import annotations

from dataclasses import dataclass, field


def _positive(owner: str, name: str, value: float) -> None:
    if not value > 0:
        raise ValueError(f"{owner}.{name} must be > 0, got {value!r}")


@dataclass(frozen=True, kw_only=True)
class MetricsConfig:
    """Thresholds used when computing per-trajectory metrics."""

    major_force_n: float = 50.0
    """A collision whose peak contact force reaches this (N) is major; below it, minor."""
    near_m: float = 0.05
    """Clearance under this (m) counts as a near miss (seed 000: < 5 cm)."""
    danger_m: float = 0.02
    """Clearance under this (m) disqualifies the trajectory (seed 000: < 2 cm)."""
    gripper_closed_below: float = 0.4
    """Gripper opening under this counts as closed (with hysteresis, below)."""
    gripper_open_above: float = 0.6
    """Gripper opening above this counts as open; between the two the state is held."""
    contact_gap_steps: int = 2
    """Contacts with one body separated by at most this many steps form one collision event."""

    def __post_init__(self) -> None:
        for name in ("major_force_n", "near_m", "danger_m"):
            _positive("MetricsConfig", name, getattr(self, name))
        if self.contact_gap_steps < 0:
            raise ValueError("MetricsConfig.contact_gap_steps must be >= 0")
        if self.danger_m >= self.near_m:
            raise ValueError("MetricsConfig.danger_m must be smaller than near_m")
        if not 0 <= self.gripper_closed_below <= self.gripper_open_above <= 1:
            raise ValueError(
                "MetricsConfig.gripper_closed_below must be <= gripper_open_above, both in [0, 1]"
            )


@dataclass(frozen=True, kw_only=True)
class RubricConfig:
    """Weights of the rubric score (seed 000); the one place they are set.

    The score is ordered so that success dominates everything else and a disqualified
    trajectory ranks below every other one: see `robopref.pool.rubric`.
    """

    success: float = 4.0
    """Points for task success; larger than all other terms together, so success comes first."""
    per_minor_collision: float = 0.5
    """Deduction per minor collision (seed 000)."""
    near_miss: float = 0.5
    """Deduction when the minimum clearance is under `MetricsConfig.near_m` (seed 000)."""
    disqualified_score: float = -5.0
    """Score of a trajectory with a major collision or clearance under `danger_m`."""
    efficiency: float = 1.0
    """Weight of efficiency in [0, 1]: path efficiency and speed of completion, averaged."""
    naturalness: float = 1.0
    """Weight of naturalness in [0, 1]: smoothness minus excess gripper oscillation."""
    progress: float = 1.5
    """Weight of task progress in [0, 1] (distance to goal closed), where the data has it."""
    jerk_scale: float = 8.0
    """log10 of dimensionless jerk at which smoothness has fallen to one half."""
    gripper_change_allowance: int = 2
    """Gripper open/close changes a clean execution needs; more count as oscillation."""
    oscillation_penalty: float = 0.1
    """Naturalness lost per gripper change beyond the allowance."""

    def __post_init__(self) -> None:
        for name in ("success", "jerk_scale"):
            _positive("RubricConfig", name, getattr(self, name))
        for name in ("per_minor_collision", "near_miss", "efficiency", "naturalness", "progress",
                     "gripper_change_allowance", "oscillation_penalty"):  # fmt: skip
            if getattr(self, name) < 0:
                raise ValueError(f"RubricConfig.{name} must be >= 0")
        if self.success <= self.efficiency + self.naturalness + self.progress:
            raise ValueError(
                "RubricConfig.success must exceed efficiency + naturalness + progress, "
                "so an efficient failure never beats a slow success"
            )


@dataclass(frozen=True, kw_only=True)
class PoolConfig:
    """How trajectories are scored when they enter a pool."""

    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    """Metric thresholds."""
    rubric: RubricConfig = field(default_factory=RubricConfig)
    """Rubric weights."""
    frame_crf: int = 17
    """H.264 CRF of stored camera frames (17: visually lossless; see docs/pool.md)."""

    def __post_init__(self) -> None:
        if not 0 <= self.frame_crf <= 51:
            raise ValueError(f"PoolConfig.frame_crf must be in [0, 51], got {self.frame_crf}")


DEFAULT_TASKS = (
    "reach-v3",
    "push-v3",
    "pick-place-v3",
    "drawer-open-v3",
    "button-press-topdown-v3",
)


@dataclass(frozen=True, kw_only=True)
class GenerateConfig:
    """A simulated pool with ground truth (`robopref pool generate`); defaults run the demo."""

    tasks: tuple[str, ...] = DEFAULT_TASKS
    """Meta-World environment names (v3); each has a language instruction."""
    experts: int = 4
    """Episodes per task from the scripted expert policy."""
    novices: int = 4
    """Episodes per task from the expert degraded like a novice operator."""
    checkpoints: int = 3
    """Behaviour-cloning checkpoints (policy_checkpoint_1 … N, increasing quality)."""
    per_checkpoint: int = 2
    """Episodes per task from each checkpoint."""
    scripted_failures: int = 2
    """Episodes per task from scripted policies that fail predictably."""
    randoms: int = 2
    """Episodes per task from a random policy."""
    bc_demos: int = 15
    """Expert episodes per task (not kept in the pool) that train the BC policy."""
    bc_steps: int = 800
    """Gradient steps of one BC run; checkpoint k of N is taken after bc_steps / 4^(N-k)."""
    max_steps: int = 120
    """Episode length limit in environment steps (Meta-World runs at 80 steps/s)."""
    settle_steps: int | None = 12
    """Steps recorded after the first success before the episode ends; None runs to max_steps."""
    frames: bool = True
    """Record camera frames; False gives a fast state-only pool."""
    image_size: int = 480
    """Side of the square camera frames in pixels."""
    cameras: tuple[str, ...] = ("corner", "gripperPOV")
    """Meta-World cameras to record: `corner` (fixed, external), `gripperPOV` (on the gripper)..."""
    workers: int = 2
    """Worker processes (each keeps one MuJoCo env per task; see docs/pool.md)."""
    seed: int = 0
    """Seed of everything random; the same seed gives the same pool."""
    pool: PoolConfig = field(default_factory=PoolConfig)
    """Scoring config stored with the pool."""

    def __post_init__(self) -> None:
        if not self.tasks:
            raise ValueError("GenerateConfig.tasks must name at least one task")
        for name in (
            "experts",
            "novices",
            "checkpoints",
            "per_checkpoint",
            "scripted_failures",
            "randoms",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"GenerateConfig.{name} must be >= 0")
        for name in ("max_steps", "image_size", "workers", "bc_steps"):
            _positive("GenerateConfig", name, getattr(self, name))
        if self.settle_steps is not None and self.settle_steps < 0:
            raise ValueError("GenerateConfig.settle_steps must be >= 0 or None")
        if self.frames and not self.cameras:
            raise ValueError("GenerateConfig.cameras must name a camera when frames=True")
        if self.image_size % 2:
            raise ValueError("GenerateConfig.image_size must be even (H.264 frames)")
        if self.checkpoints and self.bc_demos < 1:
            raise ValueError("GenerateConfig.bc_demos must be >= 1 when checkpoints > 0")


@dataclass(frozen=True, kw_only=True)
class IngestConfig:
    """Importing episodes from another format (`robopref pool ingest`)."""

    source_label: str | None = None
    """Source tier for every episode (e.g. `expert`); default: from the data, else the format."""
    success_key: str | None = None
    """Per-episode column/attribute holding success; default: the format's own, if any."""
    task: str | None = None
    """Instruction for every episode; default: the task string stored with the data."""
    env_id: str | None = None
    """Environment id for every episode; default: the dataset name."""
    skip_bad: bool = False
    """Report and skip malformed episodes instead of stopping (nothing partial is written)."""
    max_episodes: int | None = None
    """Import at most this many episodes (for trying a dataset out)."""
    source_dataset: str | None = None
    """Provenance kept per trajectory (e.g. the hub repo id); default: the source path."""
    id_prefix: str | None = None
    """Trajectory ids are `<id_prefix>-<episode>`; default: the source folder or file name."""
    ee_pos_key: str | None = None
    """Feature/key with the (T, 3) end-effector position (m), or three state names `a,b,c`."""
    gripper_key: str | None = None
    """Feature/key holding the gripper opening (or finger positions), or one state name."""
    effector_fallback: str = "error"
    """If ee_pos/gripper is not found: `error`, `state` (first 3 / last state dims), `constant`."""
    fps: float | None = None
    """Frame rate in Hz where the source records none (NPZ, robomimic without control_freq)."""
    pool: PoolConfig = field(default_factory=PoolConfig)
    """Scoring config stored with the pool if the import creates it."""

    def __post_init__(self) -> None:
        if self.max_episodes is not None and self.max_episodes < 1:
            raise ValueError("IngestConfig.max_episodes must be >= 1")
        if self.effector_fallback not in EFFECTOR_FALLBACKS:
            raise ValueError(f"IngestConfig.effector_fallback must be one of {EFFECTOR_FALLBACKS}")
        if self.fps is not None:
            _positive("IngestConfig", "fps", self.fps)
        prefix = self.id_prefix
        if prefix is not None and (
            not prefix or not all(c.isalnum() or c in "-_." for c in prefix)
        ):
            raise ValueError(
                "IngestConfig.id_prefix must be non-empty and use only letters, digits, - _ ."
            )


EFFECTOR_FALLBACKS = ("error", "state", "constant")
"""Values of `IngestConfig.effector_fallback` (docs/pool-ingest.md explains each)."""

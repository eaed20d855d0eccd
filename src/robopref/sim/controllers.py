"""Controllers for the pool's tiers: the scripted expert, a novice, scripted failures, random.

A controller maps a Meta-World observation (39,) to an action (4,) in [-1, 1]; a fresh one is
made for every episode, with its own random generator, and `params` records how it was set up.
The observation layout (Meta-World v3, goal observable): hand xyz [0:3], gripper opening [3],
object xyz [4:7], ..., goal xyz [36:39].
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import numpy as np

from robopref.sim.tasks import FailureMode, TaskSpec
from robopref.types import MetadataValue

OBJECT = slice(4, 7)
GOAL = slice(36, 39)


class Controller(Protocol):
    """Maps an observation to an action; `params` describes the controller for metadata."""

    params: dict[str, MetadataValue]

    def act(self, obs: np.ndarray) -> np.ndarray:
        """The action (4,) for observation `obs` (39,)."""
        ...


def clip_action(action: np.ndarray) -> np.ndarray:
    """An action clipped to the env's box [-1, 1]⁴, as float32 (what the env applies).

    >>> clip_action(np.array([2.0, -3.0, 0.5, 0.0])).tolist()
    [1.0, -1.0, 0.5, 0.0]
    """
    return np.clip(np.asarray(action, np.float64), -1.0, 1.0).astype(np.float32)


class ExpertController:
    """Meta-World's scripted policy for the task (`metaworld.policies.ENV_POLICY_MAP`)."""

    def __init__(self, env_name: str) -> None:
        from metaworld.policies import ENV_POLICY_MAP

        policy_cls: Any = ENV_POLICY_MAP[env_name]
        self._policy: Any = policy_cls()
        self.name = type(self._policy).__name__
        self.params: dict[str, MetadataValue] = {"policy": self.name}

    def act(self, obs: np.ndarray) -> np.ndarray:
        """The expert's action, clipped."""
        return clip_action(self._policy.get_action(obs))


@dataclass(frozen=True, kw_only=True)
class NoviceParams:
    """How one novice episode degrades the expert; drawn per episode by `draw_novice`."""

    noise_std: float
    """Std of the shaky-hand noise added to xyz actions (temporally correlated)."""
    lag_steps: int
    """The expert reacts to the observation this many steps old: overshoot and oscillation."""
    gain: float
    """Multiplier on xyz actions before clipping: an over-eager operator overshoots."""
    grasp_delay_steps: int
    """Gripper commands arrive this many steps late (late grasp and late release)."""
    pause_starts: tuple[int, ...]
    """Steps at which the operator hesitates and stops moving."""
    pause_steps: int
    """Length of each hesitation in steps."""
    misjudge_m: tuple[float, float, float]
    """Error in where the operator thinks the object and goal are (m); it shrinks as they look."""
    misjudge_half_life_steps: int
    """Steps for the misjudgement to halve."""


def draw_novice(rng: np.random.Generator, max_steps: int) -> NoviceParams:
    """Draw one novice's degradation: every episode is a different operator on a different day."""
    n_pauses = int(rng.integers(1, 4))
    starts = np.sort(rng.integers(3, max(4, int(0.6 * max_steps)), size=n_pauses))
    return NoviceParams(
        noise_std=float(rng.uniform(0.2, 0.6)),
        lag_steps=int(rng.integers(1, 5)),
        gain=float(rng.uniform(1.0, 2.0)),
        grasp_delay_steps=int(rng.integers(0, 12)),
        pause_starts=tuple(int(s) for s in starts),
        pause_steps=int(rng.integers(6, 16)),
        misjudge_m=(
            float(rng.normal(0, 0.05)),
            float(rng.normal(0, 0.05)),
            float(rng.normal(0, 0.03)),
        ),
        misjudge_half_life_steps=int(rng.integers(20, 60)),
    )


class NoviceController:
    """The expert as a novice runs it: misjudged targets, noise, lag, pauses, late grasp."""

    NOISE_CORRELATION = 0.7
    """AR(1) coefficient of the noise: a slow tremor rather than white noise."""

    def __init__(
        self, expert: ExpertController, params: NoviceParams, rng: np.random.Generator
    ) -> None:
        self._expert = expert
        self._p = params
        self._rng = rng
        self._history: deque[np.ndarray] = deque(maxlen=params.lag_steps + 1)
        self._grip: deque[float] = deque(maxlen=params.grasp_delay_steps + 1)
        self._noise = np.zeros(3)
        self._t = 0
        fields = {k: v for k, v in asdict(params).items() if not isinstance(v, tuple)}
        self.params: dict[str, MetadataValue] = {
            "policy": f"novice({expert.name})",
            **{f"novice_{k}": v for k, v in fields.items()},
            "novice_pause_starts": ",".join(str(s) for s in params.pause_starts),
            "novice_misjudge_m": ",".join(f"{v:.4f}" for v in params.misjudge_m),
        }

    def _paused(self) -> bool:
        return any(s <= self._t < s + self._p.pause_steps for s in self._p.pause_starts)

    def act(self, obs: np.ndarray) -> np.ndarray:
        """The degraded action."""
        seen = obs.copy()
        error = np.array(self._p.misjudge_m) * 0.5 ** (self._t / self._p.misjudge_half_life_steps)
        seen[OBJECT] += error
        seen[GOAL] += error
        self._history.append(seen)
        expert = self._expert.act(self._history[0])  # the oldest kept: lag_steps old
        self._grip.append(float(expert[3]))
        shock = self._rng.normal(0.0, self._p.noise_std, 3)
        rho = self.NOISE_CORRELATION
        self._noise = rho * self._noise + np.sqrt(1 - rho**2) * shock
        xyz = self._p.gain * expert[:3] + self._noise
        if self._paused():
            xyz = 0.1 * self._noise
        self._t += 1
        return clip_action(np.append(xyz, self._grip[0]))


class ScriptedFailureController:
    """A predictable failure (`FailureMode`): the expert misled, or a course into obstacles."""

    OFFSET_M = 0.15
    """How far a wrong target or wrong object is moved from the true one."""

    def __init__(
        self,
        expert: ExpertController,
        *,
        mode: FailureMode,
        spec: TaskSpec,
        rng: np.random.Generator,
    ) -> None:
        self._expert = expert
        self._mode = mode
        self._side = float(rng.choice([-1.0, 1.0]))
        self._drift = float(rng.uniform(-0.3, 0.3))
        self._object_z0: float | None = None
        self._dropped = False
        self.params: dict[str, MetadataValue] = {
            "policy": f"scripted:{mode.value}",
            "failure_mode": mode.value,
            "failure_side": self._side,
            "task_env": spec.env_name,
        }

    def act(self, obs: np.ndarray) -> np.ndarray:
        """The failing action."""
        if self._mode is FailureMode.COLLIDE:
            return clip_action(np.array([self._drift, 0.3, -1.0, -1.0]))
        seen = obs.copy()
        if self._mode is FailureMode.WRONG_TARGET:
            seen[GOAL.start] = self._wrong_x(float(obs[GOAL.start]))
        elif self._mode is FailureMode.WRONG_OBJECT:
            seen[OBJECT.start] += self._side * self.OFFSET_M
        action = self._expert.act(seen)
        if self._mode is FailureMode.DROP:
            action = self._drop(obs, action)
        return action

    def _wrong_x(self, x: float) -> float:
        """A goal 15 cm from the true one, towards the middle of the table."""
        return x - self.OFFSET_M if x > 0 else x + self.OFFSET_M

    def _drop(self, obs: np.ndarray, action: np.ndarray) -> np.ndarray:
        z = float(obs[OBJECT][2])
        if self._object_z0 is None:
            self._object_z0 = z
        if z > self._object_z0 + 0.04:  # lifted 4 cm: let go, and never grasp again
            self._dropped = True
        if self._dropped:
            action = action.copy()
            action[3] = -1.0
        return action


class RandomController:
    """Uniform random actions in [-1, 1]⁴, independent per step."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self.params: dict[str, MetadataValue] = {"policy": "uniform_random"}

    def act(self, obs: np.ndarray) -> np.ndarray:
        """A random action."""
        del obs
        return self._rng.uniform(-1.0, 1.0, 4).astype(np.float32)

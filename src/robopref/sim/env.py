"""One Meta-World env per task and process: reset by seed, step, measure contacts/clearance, render.

MuJoCo and Meta-World are imported here only, and only inside `TaskEnv`, so that a worker
process can choose its OpenGL backend (`MUJOCO_GL`) before the first import.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from robopref.errors import InputError
from robopref.sim.tasks import TaskSpec

logger = logging.getLogger(__name__)

HAND_BODIES = ("right_l6", "right_hand")
"""Robot bodies whose geoms clearance is measured from: the wrist and palm, not the fingers."""
CLEARANCE_CAP_M = 0.5
"""Clearance beyond this distance is reported as this value (mj_geomDistance `distmax`)."""
TOPPLE_COS = float(np.cos(np.deg2rad(45.0)))
"""A free object whose up axis tilts more than 45° from vertical counts as toppled."""


class BlackFrameError(RuntimeError):
    """The offscreen renderer returned an all-black frame (a broken OpenGL context)."""


@dataclass(frozen=True)
class StepMeasure:
    """What is measured at one step besides the observation."""

    force_n: float
    """Total normal force of all robot contacts with anything else, N."""
    clearance_m: float
    """Signed distance of the hand to the nearest clearance geom, m (negative: penetrating)."""
    contacts: list[tuple[str, float, bool]]
    """(body, summed normal force N, toppled) per obstacle touched or object toppled."""


class TaskEnv:
    """A Meta-World env for one task, kept for the life of a worker and reset per episode.

    Args:
        spec: The task.
        max_steps: The longest episode that will be run.
        image_size: Side of rendered frames in pixels.
        cameras: Cameras to render (none: no renderer at all, a state-only env).

    Raises:
        InputError: A camera the model does not have.
    """

    def __init__(
        self, spec: TaskSpec, *, max_steps: int, image_size: int, cameras: tuple[str, ...]
    ) -> None:
        import mujoco
        from metaworld.env_dict import ALL_V3_ENVIRONMENTS_GOAL_OBSERVABLE

        self.spec = spec
        self._mujoco = mujoco
        env_cls: Any = ALL_V3_ENVIRONMENTS_GOAL_OBSERVABLE[f"{spec.env_name}-goal-observable"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.env: Any = env_cls(seed=0)
        # Draw a new object/goal placement on every reset from env.np_random (seeded per episode).
        self.env._freeze_rand_vec = False
        self.env.seeded_rand_vec = True
        self.env.max_path_length = max(int(self.env.max_path_length), max_steps + 1)
        self._mocap_low = np.array(self.env.mocap_low, np.float64)
        self.model: Any = self.env.model
        self.data: Any = self.env.data
        self.fps = 1.0 / float(self.env.dt)
        self._index_geoms()
        self.cameras: tuple[str, ...] = ()
        self._renderer: Any = None
        if cameras:
            self._make_renderer(image_size, cameras)

    def _index_geoms(self) -> None:
        m, mujoco = self.model, self._mujoco
        body_name = [m.body(i).name for i in range(m.nbody)]
        robot_root = m.body("base").id
        self._geom_body = [body_name[int(m.geom_bodyid[g])] for g in range(m.ngeom)]
        self._robot = np.array(
            [int(m.body_rootid[m.geom_bodyid[g]]) == robot_root for g in range(m.ngeom)]
        )
        collides = [bool(m.geom_contype[g] or m.geom_conaffinity[g]) for g in range(m.ngeom)]
        self._hand_geoms = [g for g in range(m.ngeom) if self._geom_body[g] in HAND_BODIES]
        self._clearance_geoms = [
            g
            for g in range(m.ngeom)
            if collides[g] and self._geom_body[g] in self.spec.clearance_bodies
        ]
        self._contact_bodies = set(self.spec.contact_bodies)
        self._object_id = (
            mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, self.spec.free_object)
            if self.spec.free_object
            else -1
        )
        missing = set(self.spec.clearance_bodies) - {
            self._geom_body[g] for g in self._clearance_geoms
        }
        if missing or not self._hand_geoms:
            raise RuntimeError(
                f"{self.spec.env_name}: bodies {sorted(missing)} have no collision geoms"
            )

    def _make_renderer(self, image_size: int, cameras: tuple[str, ...]) -> None:
        mujoco, m = self._mujoco, self.model
        # Fast offscreen settings: no multisampling; shadows and reflections off (issue: ~6x).
        m.vis.quality.offsamples = 0
        m.vis.global_.offwidth = max(int(m.vis.global_.offwidth), image_size)
        m.vis.global_.offheight = max(int(m.vis.global_.offheight), image_size)
        self._renderer = mujoco.Renderer(m, image_size, image_size)
        names = [m.camera(i).name for i in range(m.ncam)]
        unknown = [c for c in cameras if c not in names]
        if unknown:
            raise InputError(
                "GenerateConfig", "cameras", f"unknown {unknown}; the model has {names}"
            )
        self.cameras = cameras

    def reset(self, seed: int, *, floor_drop_m: float = 0.0) -> np.ndarray:
        """Reset to the object/goal placement drawn from `seed`; returns the observation (39,).

        Args:
            seed: Env seed.
            floor_drop_m: Lower the hand's workspace floor by this much for this episode (the
                `collide` failure: Meta-World's floor otherwise stops the fingers 6 mm above
                the table).
        """
        low = self._mocap_low.copy()
        low[2] -= floor_drop_m
        self.env.mocap_low = low
        self.env.seed(int(seed))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            obs, _ = self.env.reset()
        return np.asarray(obs, np.float64)

    def step(self, action: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
        """Apply one action (4,) in [-1, 1]; returns (observation, info).

        `info["reward"]` is the env's own dense reward for arriving in the new state.
        """
        obs, reward, _, _, info = self.env.step(action)
        return np.asarray(obs, np.float64), {**info, "reward": float(reward)}

    def evaluate(self, obs: np.ndarray) -> dict[str, Any]:
        """The env's success/progress info and reward for an observation (the reset state)."""
        reward, info = self.env.evaluate_state(obs, np.zeros(4, np.float32))
        return {**info, "reward": float(reward)}

    def measure(self) -> StepMeasure:
        """Contacts, total contact force and hand clearance in the current state."""
        mujoco, m, d = self._mujoco, self.model, self.data
        force = np.zeros(6)
        total = 0.0
        per_body: dict[str, float] = {}
        for i in range(int(d.ncon)):
            g1, g2 = int(d.contact[i].geom1), int(d.contact[i].geom2)
            if self._robot[g1] == self._robot[g2]:
                continue
            mujoco.mj_contactForce(m, d, i, force)
            normal = abs(float(force[0]))
            total += normal
            other = self._geom_body[g2 if self._robot[g1] else g1]
            if other in self._contact_bodies:
                per_body[other] = per_body.get(other, 0.0) + normal
        contacts = [(body, f, False) for body, f in sorted(per_body.items())]
        if self._object_id >= 0 and float(d.xmat[self._object_id][8]) < TOPPLE_COS:
            contacts.append((str(self.spec.free_object), 0.0, True))
        return StepMeasure(force_n=total, clearance_m=self._clearance(), contacts=contacts)

    def _clearance(self) -> float:
        mujoco, m, d = self._mujoco, self.model, self.data
        best = CLEARANCE_CAP_M
        for g1 in self._hand_geoms:
            for g2 in self._clearance_geoms:
                best = min(best, float(mujoco.mj_geomDistance(m, d, g1, g2, CLEARANCE_CAP_M, None)))
        return best

    def render(self) -> dict[str, np.ndarray]:
        """One (H, W, 3) uint8 frame per camera, turned the right way up.

        Raises:
            BlackFrameError: A frame is entirely black (see docs/pool-generate.md).
        """
        flags = self._mujoco.mjtRndFlag
        out: dict[str, np.ndarray] = {}
        for camera in self.cameras:
            self._renderer.update_scene(self.data, camera=camera)
            self._renderer.scene.flags[flags.mjRND_SHADOW] = 0
            self._renderer.scene.flags[flags.mjRND_REFLECTION] = 0
            # Meta-World's named cameras look along an up vector that renders upside down.
            frame = np.ascontiguousarray(self._renderer.render()[::-1, ::-1])
            if not frame.any():
                raise BlackFrameError(
                    f"{self.spec.env_name}: camera {camera!r} rendered an all-black frame; the "
                    "OpenGL context is broken (try MUJOCO_GL=osmesa, or one env per process)"
                )
            out[camera] = frame
        return out

    def close(self) -> None:
        """Free the renderer and the env."""
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
        self.env.close()

"""One Meta-World task as a TorchRL env: the process's TaskEnv, a new seeded placement per episode.

The env is state-only (no renderer) and stays on the CPU. Episode k of a run starts from the
placement drawn from `job_seed(seed, task, "ppo", k)`, so a run is reproducible and every
episode sees a new object/goal. Episodes end at `max_steps` (truncation; Meta-World never
terminates). Each step also reports `success` (the env's own flag at the new state) and
`succeeded` (success at any step of the episode so far), read at the last step for the
episode's outcome. Actions outside [-1, 1] (a Gaussian sample) are clipped before the step;
the batch keeps the sampled action, so its log-likelihood stays exact.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from tensordict import TensorDict, TensorDictBase  # type: ignore[import-untyped]
from torchrl.data import Bounded, Categorical, Composite, Unbounded  # type: ignore[import-untyped]
from torchrl.envs import EnvBase  # type: ignore[import-untyped]

from robopref.sim.controllers import clip_action
from robopref.sim.workers import job_seed, process_env

OBS_KEY = "observation"
"""Key of the (39,) float32 Meta-World observation."""
STREAM = "ppo"
"""Seed stream of the episode placements (`job_seed`)."""


class MetaWorldEnv(EnvBase):  # type: ignore[misc]
    """A TorchRL env over this process's `TaskEnv` for `task`.

    Args:
        task: Meta-World env name.
        seed: Seed of the placement stream (`set_seed` restarts it with a new one).
        max_steps: Episode length.
    """

    def __init__(self, task: str, *, seed: int, max_steps: int) -> None:
        super().__init__(device="cpu", batch_size=torch.Size([]))
        self.task = task
        self.max_steps = max_steps
        self._env = process_env(task, max_steps=max_steps, image_size=480, cameras=())
        self._seed = seed
        self._episode = 0
        self._t = 0
        self._succeeded = False
        n_obs = int(np.prod(self._env.env.observation_space.shape))
        n_act = int(np.prod(self._env.env.action_space.shape))
        flag = Unbounded(shape=(1,), dtype=torch.float32)
        self.observation_spec = Composite(
            {
                OBS_KEY: Unbounded(shape=(n_obs,), dtype=torch.float32),
                "success": flag,
                "succeeded": flag.clone(),
            }
        )
        self.action_spec = Bounded(low=-1.0, high=1.0, shape=(n_act,), dtype=torch.float32)
        self.reward_spec = Unbounded(shape=(1,), dtype=torch.float32)
        done = Categorical(n=2, shape=(1,), dtype=torch.bool)
        self.done_spec = Composite(done=done, terminated=done.clone(), truncated=done.clone())

    @property
    def episodes(self) -> int:
        """Episodes started so far (since the last `set_seed`)."""
        return self._episode

    def placement_seed(self, episode: int) -> int:
        """The env seed of episode `episode` (0-based) of this placement stream."""
        return job_seed(self._seed, self.task, STREAM, episode)

    def _reset(self, tensordict: TensorDictBase | None, **kwargs: Any) -> TensorDictBase:
        obs = self._env.reset(self.placement_seed(self._episode))
        self._episode += 1
        self._t = 0
        self._succeeded = bool(self._env.evaluate(obs).get("success", 0.0))
        return self._out(obs, success=self._succeeded, done=False)

    def _step(self, tensordict: TensorDictBase) -> TensorDictBase:
        action = clip_action(tensordict.get("action").detach().cpu().numpy())
        obs, info = self._env.step(action)
        self._t += 1
        success = bool(info.get("success", 0.0))
        self._succeeded = self._succeeded or success
        out = self._out(obs, success=success, done=self._t >= self.max_steps)
        out.set("reward", torch.tensor([info["reward"]], dtype=torch.float32))
        return out

    def _out(self, obs: np.ndarray, *, success: bool, done: bool) -> TensorDictBase:
        flag = torch.tensor([done])
        return TensorDict(
            {
                OBS_KEY: torch.as_tensor(obs, dtype=torch.float32),
                "success": torch.tensor([float(success)]),
                "succeeded": torch.tensor([float(self._succeeded)]),
                "done": flag,
                "terminated": torch.zeros(1, dtype=torch.bool),
                "truncated": flag.clone(),
            },
            batch_size=self.batch_size,
        )

    def _set_seed(self, seed: int | None) -> None:
        self._seed = 0 if seed is None else int(seed)
        self._episode = 0

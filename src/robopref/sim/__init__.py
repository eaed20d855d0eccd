"""The simulator layer: Meta-World tasks and envs, controllers, BC policies, episodes, workers.

Below the pool (which records these episodes as trajectories) and the policy stage (which
improves a policy with a learned reward and rolls it out); MuJoCo and Meta-World are imported
inside `robopref.sim.env` only, so a worker chooses its OpenGL backend first.
"""

from robopref.sim.tasks import TASKS, FailureMode, TaskSpec, task_spec

__all__ = ["TASKS", "FailureMode", "TaskSpec", "task_spec"]

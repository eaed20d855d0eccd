"""Simulated Meta-World pools with ground truth: every quality tier, recorded with MuJoCo."""

from robopref.pool.generate.generator import generate_pool
from robopref.sim.tasks import TASKS, FailureMode, TaskSpec, task_spec

__all__ = ["TASKS", "FailureMode", "TaskSpec", "generate_pool", "task_spec"]

"""Meta-World task specs: instruction, obstacle bodies, clearance geometry and failure modes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from robopref.errors import InputError


class FailureMode(str, Enum):
    """A scripted way to fail predictably (the `scripted` tier)."""

    WRONG_TARGET = "wrong_target"
    """The expert, shown a goal moved to the mirror-image spot: it solves the wrong task."""
    WRONG_OBJECT = "wrong_object"
    """The expert, shown the object moved 10 cm sideways: it works on empty space."""
    DROP = "drop"
    """The expert, but the gripper opens once the object is lifted: it drops it."""
    COLLIDE = "collide"
    """A straight course forward and down, into the fixture, the wall or onto the table."""


@dataclass(frozen=True, kw_only=True)
class TaskSpec:
    """How one Meta-World task is recorded and scored."""

    env_name: str
    """Meta-World v3 environment name, e.g. `push-v3`."""
    instruction: str
    """The language instruction stored as the trajectory's `task`."""
    contact_bodies: tuple[str, ...]
    """Scene bodies whose contact with the robot is a collision (never the task object)."""
    clearance_bodies: tuple[str, ...]
    """Bodies whose geoms count for clearance, measured from the hand (see docs)."""
    free_object: str | None
    """A loose body whose toppling counts as a major collision, if the task has one."""
    failure_modes: tuple[FailureMode, ...]
    """Scripted failures, used in this order (cycling) for the `scripted` tier."""


TABLE = "tablelink"
WALL = "RetainingWall"

# Obstacles (docs/pool-generate.md): the table and the retaining wall everywhere; the fixture
# the task is worked at (drawer case) counts for contacts only, because an expert's hand passes
# 2.5 cm from it; the button box is touched by every correct press, so it is no obstacle.
TASKS: dict[str, TaskSpec] = {
    spec.env_name: spec
    for spec in (
        TaskSpec(
            env_name="reach-v3",
            instruction="move the gripper to the red target point",
            contact_bodies=(TABLE, WALL, "obj"),
            clearance_bodies=(TABLE, WALL, "obj"),
            free_object="obj",
            failure_modes=(FailureMode.WRONG_TARGET, FailureMode.COLLIDE),
        ),
        TaskSpec(
            env_name="push-v3",
            instruction="push the puck to the green goal",
            contact_bodies=(TABLE, WALL),
            clearance_bodies=(TABLE, WALL),
            free_object="obj",
            failure_modes=(FailureMode.WRONG_TARGET, FailureMode.COLLIDE),
        ),
        TaskSpec(
            env_name="pick-place-v3",
            instruction="pick up the puck and place it at the blue goal",
            contact_bodies=(TABLE, WALL),
            clearance_bodies=(TABLE, WALL),
            free_object="obj",
            failure_modes=(FailureMode.DROP, FailureMode.COLLIDE, FailureMode.WRONG_TARGET),
        ),
        TaskSpec(
            env_name="drawer-open-v3",
            instruction="open the drawer",
            contact_bodies=(TABLE, WALL, "drawercase_link"),
            clearance_bodies=(TABLE, WALL),
            free_object=None,
            failure_modes=(FailureMode.WRONG_OBJECT, FailureMode.COLLIDE),
        ),
        TaskSpec(
            env_name="button-press-topdown-v3",
            instruction="press the button down from above",
            contact_bodies=(TABLE, WALL),
            clearance_bodies=(TABLE, WALL),
            free_object=None,
            failure_modes=(FailureMode.WRONG_OBJECT, FailureMode.COLLIDE),
        ),
    )
}


def task_spec(env_name: str) -> TaskSpec:
    """The spec of a supported task.

    Raises:
        InputError: The task is not one the generator knows.
    """
    if env_name not in TASKS:
        raise InputError(
            "GenerateConfig", "tasks", f"unknown task {env_name!r}; choose from {sorted(TASKS)}"
        )
    return TASKS[env_name]

"""Running render jobs as Ray tasks: the same `render_job` as the process pool, fanned out."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from robopref.ray_session import ray_session
from robopref.render.clip import ClipResult

if TYPE_CHECKING:
    from robopref.render.parallel import RenderJob


def run_on_ray(jobs: list[RenderJob], address: str) -> Iterator[ClipResult]:
    """Run each job as a one-CPU Ray task and yield results as they finish.

    Every node must have robopref installed and see the pool folder at the same path
    (shared storage). A Ray session this call starts is shut down at the end; one the
    caller already started is left running.

    Args:
        jobs: The clips to render.
        address: `ray.init` address: `local` starts a private instance, `auto` joins the
            cluster this machine belongs to, `ray://host:10001` connects a client.
    """
    import ray

    from robopref.render.parallel import render_job

    with ray_session(address):
        task = ray.remote(num_cpus=1, max_retries=1)(render_job)
        pending = [task.remote(job) for job in jobs]
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            yield ray.get(ready[0])

"""A Ray session for one fan-out: joined when the caller has one, else started and shut down.

Render jobs, embedding tasks and policy rollouts all fan out the same way: every node has
robopref installed and sees the same paths; Ray's dashboard and worker logs stay off (the
verbs print their own progress).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def ray_session(address: str, *, num_cpus: int | None = None) -> Iterator[None]:
    """Run the body inside a Ray session.

    A session the caller already started is used and left running; otherwise one is started
    here and shut down when the body ends (also on an error).

    Args:
        address: `ray.init` address: `local` starts a private instance, `auto` joins the
            cluster this machine belongs to, `ray://host:10001` connects a client.
        num_cpus: CPUs of a private (`local`) instance; None lets Ray count them.
    """
    import ray

    started = not ray.is_initialized()
    if started:
        options: dict[str, object] = {"address": address}
        if num_cpus is not None and address == "local":
            options["num_cpus"] = num_cpus
        ray.init(
            **options,  # type: ignore[arg-type]
            include_dashboard=False,
            log_to_driver=False,
            logging_level=logging.WARNING,
        )
    try:
        yield
    finally:
        if started:
            ray.shutdown()

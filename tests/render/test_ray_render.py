from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from robopref.pool import Pool
from robopref.render import RenderConfig, render_pool

ray = pytest.importorskip("ray", reason="ray not installed (pip install ray): Ray path untested")


@pytest.mark.slow
def test_local_ray_instance_renders_the_same_clips(tiny_pool: Callable[..., Pool]) -> None:
    pool = tiny_pool(n=3, n_steps=20)
    small = RenderConfig(workers=1, width=128, height=128, force_strip_height=24, font_size=10)
    render_pool(pool.root, small)
    local = {p.name: p.read_bytes() for p in (pool.root / "clips").glob("*.mp4")}
    report = render_pool(pool.root, dataclasses.replace(small, ray_address="local"), force=True)
    assert len(report.rendered) == 3 and report.failed == ()
    assert {p.name: p.read_bytes() for p in (pool.root / "clips").glob("*.mp4")} == local
    assert not ray.is_initialized()  # the session render_pool started is shut down

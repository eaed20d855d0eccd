"""The demo pipeline: every stage that exists, on embedded defaults, into one output folder."""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from robopref import __version__
from robopref.pool.config import GenerateConfig
from robopref.progress import ProgressCallback, no_progress

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class DemoConfig:
    """What `robopref demo` runs."""

    generate: GenerateConfig = field(default_factory=GenerateConfig)
    """The simulated pool."""

    @classmethod
    def toy(cls) -> DemoConfig:
        """A toy-size demo for the end-to-end test: 2 tasks, few short episodes, small frames."""
        return cls(
            generate=replace(
                GenerateConfig(),
                tasks=("reach-v3", "button-press-topdown-v3"),
                experts=2,
                novices=2,
                checkpoints=1,
                per_checkpoint=1,
                scripted_failures=1,
                randoms=1,
                bc_demos=3,
                max_steps=60,
                image_size=96,
            )
        )


@dataclass(frozen=True)
class DemoResult:
    """Where the demo put its outputs."""

    pool: Path


def run_demo(
    config: DemoConfig, out: Path, *, progress: ProgressCallback = no_progress
) -> DemoResult:
    """Run the demo into `out` (replacing an earlier demo there)."""
    from robopref.pool.generate import generate_pool

    if (out / "pool").exists():
        shutil.rmtree(out / "pool")
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(
        json.dumps({"robopref_version": __version__, "config": asdict(config)}, indent=1)
    )
    generate_pool(config.generate, out / "pool", progress=progress)
    return DemoResult(pool=out / "pool")

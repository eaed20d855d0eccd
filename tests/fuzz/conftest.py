"""Fixtures of the fuzz suite: a case folder beside a sentinel folder that must never change."""

from __future__ import annotations

from pathlib import Path

import pytest

from robopref.testing import tiny_pool

from .harness import run_cli

PREFS = "base-qa/preferences.parquet"
"""The preferences file of `verb_inputs`, relative to its folder."""


@pytest.fixture
def fuzz_dir(tmp_path: Path) -> Path:
    """An empty case folder; beside it `sentinel/` holds files a stray write would change."""
    sentinel = tmp_path / "sentinel"
    sentinel.mkdir()
    for name in ("escaped", "escaped.mp4", "notes.txt"):
        (sentinel / name).write_text(f"sentinel {name}\n")
    case = tmp_path / "case"
    case.mkdir()
    return case


@pytest.fixture(scope="session")
def verb_inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Valid inputs for every verb, made by the verbs themselves (copy before changing them).

    `pool/` (60 tiny trajectories, 16 px frames), `base.db` and `base-qa/` from a simulated
    campaign, and `base-model/` (one member, 3 epochs).
    """
    root = tmp_path_factory.mktemp("verb-inputs")
    tiny_pool(root / "pool", n=60, n_steps=12, frame_size=16)
    for args in (
        "campaign simulate pool --db sqlite:///base.db --out base-qa",
        f"train {PREFS} pool --out base-model --epochs 3 --ensemble 1",
    ):
        outcome = run_cli(args.split(), cwd=root)
        assert outcome.returncode == 0, outcome.stderr[-2000:]
    return root

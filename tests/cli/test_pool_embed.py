"""`robopref pool embed`: fills the pool's embedding cache; bad input exits 2, writing nothing."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from robopref.cli import app
from robopref.pool.pool import Pool

runner = CliRunner()
ENCODER = ["--encoder", "efficientnet_lite0", "--input-size", "32"]  # bundled weights, small


@pytest.fixture
def pool(tiny_pool: Callable[..., Pool]) -> Pool:
    return tiny_pool(n=3, n_steps=6, frame_size=16)


def _cache(pool: Pool) -> Path:
    return pool.root / ".cache" / "embeddings"


def test_embed_fills_the_pool_cache_then_finds_everything_cached(pool: Pool) -> None:
    result = runner.invoke(app, ["pool", "embed", str(pool.root), *ENCODER, "--views", "2"])
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith(f"embedded pool {pool.root} with efficientnet_lite0: 3 trajectories")
    assert "3 clips new (18 frames at" in last and "0 cached" in last
    entries = sorted(_cache(pool).rglob("*.npz"))
    assert len(entries) == 3 and all(len(p.stem) == 64 for p in entries)
    with np.load(entries[0]) as npz:
        assert npz["features"].shape == (6, 2, 1280) and npz["features"].dtype == np.float16
    again = runner.invoke(app, ["pool", "embed", str(pool.root), *ENCODER, "--views", "2"])
    assert again.exit_code == 0, again.output
    assert "0 clips new" in again.output and "3 cached" in again.output
    assert sorted(_cache(pool).rglob("*.npz")) == entries


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--encoder", "nope"], "--encoder"),
        ([*ENCODER, "--camera", "wrist"], "--camera"),
        ([*ENCODER, "--views", "0"], "--views"),
        ([*ENCODER, "--device", "tpu"], "--device"),
        (["--encoder", "resnet18"], "--weights"),  # no bundled weights, no file named
        ([*ENCODER, "--weights", "missing.safetensors"], "missing.safetensors"),
    ],
)
def test_bad_input_exits_2_naming_the_option_and_writes_nothing(
    pool: Pool, args: list[str], named: str
) -> None:
    before = sorted(pool.root.rglob("*"))
    result = runner.invoke(app, ["pool", "embed", str(pool.root), *args])
    assert result.exit_code == 2, result.output
    assert named in result.output
    assert sorted(pool.root.rglob("*")) == before


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_cuda_without_cuda_exits_2(pool: Pool) -> None:
    result = runner.invoke(app, ["pool", "embed", str(pool.root), *ENCODER, "--device", "cuda"])
    assert result.exit_code == 2 and "--device" in result.output
    assert not _cache(pool).exists()


def test_a_missing_pool_exits_2_in_a_subprocess(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "robopref", "pool", "embed", str(tmp_path / "no-pool"), *ENCODER],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "manifest.parquet" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_help_has_an_example() -> None:
    result = runner.invoke(app, ["pool", "embed", "--help"])
    assert result.exit_code == 0 and "Example" in result.output

"""`robopref label`: the vision-language labeler answers a stored batch, in process."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from tests.teachers.conftest import seed_store
from tests.teachers.test_vlm_labeler import TINY_CLIP, tiny_clip
from typer.testing import CliRunner

from robopref.cli import app
from robopref.pool.pool import Pool
from robopref.store import Base, annotations_frame, assignments_frame, open_store


@pytest.fixture
def setup(tmp_path: Path, tiny_pool: Callable[..., Pool]) -> tuple[str, Pool, Path]:
    """A SQLite store with batch b1 over a 16-trajectory pool with frames, and a CLIP file."""
    pool = tiny_pool(n=16, n_steps=20, frame_size=32)
    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = open_store(url)
    Base.metadata.create_all(store.engine)
    seed_store(store, pool.manifest)
    store.dispose()
    return url, pool, tiny_clip(tmp_path)


def _run(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["label", *map(str, args)])
    return result.exit_code, result.output


def test_labels_a_batch_and_a_saved_adapter_reruns_adding_nothing(
    setup: tuple[str, Pool, Path], tmp_path: Path
) -> None:
    url, pool, weights = setup
    common = ("b1", "--db", url, "--pool", pool.root, "--weights", weights, "--arch", TINY_CLIP)
    code, out = _run(*common, "--steps", "50", "--save-adapter", tmp_path / "adapter")
    assert code == 0, out
    store = open_store(url, existing=True)
    frame = annotations_frame(store, "b1")
    skipped = int(assignments_frame(store, "b1")["skipped"].sum())
    assert len(frame) + skipped == len(assignments_frame(store, "b1")) and len(frame) > 0
    (version,) = set(frame.interface_version)
    assert version.startswith("ai:vlm/1@") and len(version) == len("ai:vlm/1@") + 12
    assert f"batch b1: {len(frame)} new vlm annotations ({skipped} abstained)" in out
    assert f"as {version}" in out and "16 clips embedded, 0 cached" in out
    assert "inverse-dynamics loss" in out
    assert (tmp_path / "adapter" / "adapter.safetensors").is_file()
    code, out = _run(*common, "--adapter", tmp_path / "adapter")
    assert code == 0, out
    assert "batch b1: 0 new vlm annotations" in out and f"as {version}" in out
    assert "0 clips embedded, 16 cached" in out
    assert len(annotations_frame(store, "b1")) == len(frame)
    store.dispose()


def test_bad_weights_or_options_exit_2_naming_them(
    setup: tuple[str, Pool, Path], tmp_path: Path
) -> None:
    url, pool, weights = setup
    bad = tmp_path / "bad.safetensors"
    save_file({"visual.conv1.weight": torch.zeros(4, 3, 8, 8)}, str(bad))
    base = ("b1", "--db", url, "--pool", pool.root, "--arch", TINY_CLIP)
    code, out = _run(*base, "--weights", bad)
    assert code == 2 and str(bad) in out and "weights" in out
    code, out = _run(*base)
    assert code == 2 and "--weights" in out
    code, out = _run(*base, "--weights", weights, "--labeler", "oracle")
    assert code == 2 and "--labeler" in out
    code, out = _run(*base, "--weights", tmp_path / "missing.pt")
    assert code == 2 and "missing.pt" in out and "no such file" in out


def test_help_names_the_labelers_and_has_an_example() -> None:
    result = CliRunner().invoke(app, ["label", "--help"])
    assert result.exit_code == 0 and "Example" in result.output and "vlm" in result.output


def test_the_rubric_labeler_answers_from_the_observable_metrics(
    setup: tuple[str, Pool, Path],
) -> None:
    url, pool, _ = setup
    code, out = _run("b1", "--db", url, "--pool", pool.root, "--labeler", "rubric")
    assert code == 0, out
    store = open_store(url, existing=True)
    frame = annotations_frame(store, "b1")
    store.dispose()
    assert len(frame) > 0 and frame.interface_version.str.startswith("ai:rubric/").all()
    assert f"batch b1: {len(frame)} new rubric annotations" in out


def test_the_transfer_labeler_needs_a_model(setup: tuple[str, Pool, Path]) -> None:
    url, pool, _ = setup
    code, out = _run("b1", "--db", url, "--pool", pool.root, "--labeler", "transfer")
    assert code == 2 and "--model" in out
    code, out = _run(*("b1", "--db", url, "--pool", pool.root), "--labeler", "transfer",
                     "--model", pool.root / "no-model")  # fmt: skip
    assert code == 2 and "no-model" in out


def test_the_transfer_labeler_answers_with_a_trained_model(
    setup: tuple[str, Pool, Path], tmp_path: Path
) -> None:
    from tests.reward.conftest import state_config

    from robopref.reward import train_reward_model
    from robopref.testing import synthetic_preferences, write_preferences

    url, pool, _ = setup
    prefs = write_preferences(
        synthetic_preferences(pool, n_pairs=60, seed=0), tmp_path / "preferences.parquet"
    )
    model = tmp_path / "model"
    train_reward_model(prefs, pool, state_config(epochs=5, patience=5), out=model)
    digest = hashlib.sha256((model / "model.safetensors").read_bytes()).hexdigest()
    code, out = _run(*("b1", "--db", url, "--pool", pool.root), "--labeler", "transfer",
                     "--model", model, "--abstain-margin", "0")  # fmt: skip
    assert code == 0, out
    store = open_store(url, existing=True)
    frame = annotations_frame(store, "b1")
    store.dispose()
    assert len(frame) == 78 and set(frame.interface_version) == {f"ai:transfer/1@{digest[:12]}"}

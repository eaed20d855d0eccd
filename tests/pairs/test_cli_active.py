"""`robopref pairs --active MODEL`: a real (untrained) checkpoint scores a real pool."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import typer
from typer.testing import CliRunner

from robopref.cli import _Verbs
from robopref.cli.pairs import pairs
from robopref.pool import Pool
from robopref.pool.pool import append_to_pool
from robopref.reward import EncoderConfig, RewardModel, save_checkpoint
from robopref.reward.compat import input_dims, step_width
from robopref.reward.ensemble import EnsembleNet
from robopref.reward.model import build_net, spec_for
from robopref.store import open_store
from robopref.testing import synthetic_preferences, tiny_pool, write_preferences

app = typer.Typer(cls=_Verbs)
app.command()(pairs)
app.command(name="noop")(lambda: None)
runner = CliRunner()


def save_model(pool: Pool, out: Path, members: int = 2) -> Path:
    """An untrained `members`-member state ensemble fitting `pool`, saved as a checkpoint."""
    enc = EncoderConfig(kind="state", language=False, n_steps=4, embed_dim=8, hidden_dim=8)
    dims = input_dims(pool[str(pool.manifest["trajectory_id"].iloc[0])])
    width = step_width(enc, dims["state_dim"], dims["action_dim"])
    spec = spec_for(enc, step_dim=width, language_dim=0, camera=None)
    net = EnsembleNet([build_net(spec, seed=s) for s in range(members)])
    model = RewardModel(net=net, spec=spec, task_embeddings={}, record={"data": dims})
    save_checkpoint(model, out)
    return out


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[Pool, Path]:
    root = tmp_path_factory.mktemp("cli-active")
    pool = tiny_pool(root / "pool", n=60, frame_size=None)
    return pool, save_model(pool, root / "model")


def _run(*args: str | Path) -> object:
    return runner.invoke(app, ["pairs", *map(str, args)])


def test_active_batch_is_written_stored_and_cached(
    setup: tuple[Pool, Path], tmp_path: Path
) -> None:
    pool, model = setup
    db = f"sqlite:///{tmp_path / 'robopref.db'}"
    result = _run(pool.root, tmp_path / "b1", "--active", model, "--batch-size", "50", "--db", db)
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    batches = json.loads((tmp_path / "b1" / "batches.json").read_text())
    assert [(b["kind"], b["pairs"]) for b in batches] == [("active", 50 + 4)]  # + duplicates
    assert json.loads((tmp_path / "b1" / "config.json").read_text())["active"]["batch_size"] == 50
    cache = list((pool.root / ".cache" / "active").glob("*.npz"))
    assert len(cache) == 1
    store = open_store(db)
    try:
        from robopref.store import load_batch

        assert load_batch(store, batches[0]["batch_id"]).kind.value == "active"
    finally:
        store.dispose()


def test_labelled_pairs_are_excluded(setup: tuple[Pool, Path], tmp_path: Path) -> None:
    pool, model = setup
    prefs = synthetic_preferences(pool, n_pairs=1500, seed=1)
    labelled = write_preferences(prefs, tmp_path / "preferences.parquet")
    result = _run(pool.root, tmp_path / "b", "--active", model, "--labelled", labelled)
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    drawn = pq.read_table(tmp_path / "b" / "pairs.parquet").to_pandas()

    def pairs_of(frame: object) -> set[frozenset[str]]:
        a, b = frame["trajectory_a_id"], frame["trajectory_b_id"]  # type: ignore[index]
        return {frozenset(p) for p in zip(a, b, strict=True)}

    assert not pairs_of(drawn) & pairs_of(prefs)


def test_a_bad_model_exits_2_naming_the_file(setup: tuple[Pool, Path], tmp_path: Path) -> None:
    pool, _ = setup
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "config.json").write_text("{not json")
    result = _run(pool.root, tmp_path / "out", "--active", tmp_path / "model")
    assert result.exit_code == 2
    assert str(tmp_path / "model" / "config.json") in result.output  # type: ignore[attr-defined]
    assert not (tmp_path / "out").exists()


def test_a_model_that_does_not_fit_the_pool_exits_2(
    setup: tuple[Pool, Path], tmp_path: Path
) -> None:
    pool, model = setup
    wider = [dataclasses.replace(t, state=np.concatenate([t.state, t.state], axis=1)) for t in pool]
    other = append_to_pool(tmp_path / "wide", wider)
    result = _run(other.root, tmp_path / "out", "--active", model)
    assert result.exit_code == 2
    output: str = result.output  # type: ignore[attr-defined]
    assert str(model / "config.json") in output and "state_dim" in output, output
    assert not (tmp_path / "out").exists()


def test_active_needs_a_pool_folder_and_no_calibration(
    setup: tuple[Pool, Path], tmp_path: Path
) -> None:
    pool, model = setup
    manifest = pool.root / "manifest.parquet"
    result = _run(manifest, tmp_path / "out", "--active", model)
    assert result.exit_code == 2 and "POOL" in result.output  # type: ignore[attr-defined]
    result = _run(pool.root, tmp_path / "out", "--active", model, "--calibration")
    assert result.exit_code == 2 and "--active" in result.output  # type: ignore[attr-defined]
    result = _run(pool.root, tmp_path / "out", "--labelled", manifest)
    assert result.exit_code == 2 and "--labelled" in result.output  # type: ignore[attr-defined]


def test_an_earlier_batch_file_excludes_its_pairs(setup: tuple[Pool, Path], tmp_path: Path) -> None:
    pool, model = setup
    assert _run(pool.root, tmp_path / "b1", "--active", model).exit_code == 0  # type: ignore[attr-defined]
    first = tmp_path / "b1" / "pairs.parquet"
    result = _run(pool.root, tmp_path / "b2", "--active", model, "--labelled", first)
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    one, two = (pq.read_table(p).to_pandas() for p in (first, tmp_path / "b2" / "pairs.parquet"))
    seen = {frozenset(p) for p in zip(one["trajectory_a_id"], one["trajectory_b_id"], strict=True)}
    pairs = zip(two["trajectory_a_id"], two["trajectory_b_id"], strict=True)
    assert not any(frozenset(p) in seen for p in pairs)


def test_a_labelled_file_without_the_ids_exits_2(setup: tuple[Pool, Path], tmp_path: Path) -> None:
    pool, model = setup
    bad = tmp_path / "labels.jsonl"
    bad.write_text('{"pair_id": "p1", "trajectory_a_id": "syn-00-001"}\n')
    result = _run(pool.root, tmp_path / "out", "--active", model, "--labelled", bad)
    output: str = result.output  # type: ignore[attr-defined]
    assert result.exit_code == 2 and str(bad) in output and "trajectory_b_id" in output, output
    assert not (tmp_path / "out").exists()


def test_pairs_already_in_the_store_are_not_drawn_again(
    setup: tuple[Pool, Path], tmp_path: Path
) -> None:
    pool, model = setup
    db = f"sqlite:///{tmp_path / 'robopref.db'}"
    for out in ("b1", "b2"):
        result = _run(pool.root, tmp_path / out, "--active", model, "--db", db)
        assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    one, two = (pq.read_table(tmp_path / b / "pairs.parquet").to_pandas() for b in ("b1", "b2"))
    seen = {frozenset(p) for p in zip(one["trajectory_a_id"], one["trajectory_b_id"], strict=True)}
    pairs = zip(two["trajectory_a_id"], two["trajectory_b_id"], strict=True)
    assert not any(frozenset(p) in seen for p in pairs)

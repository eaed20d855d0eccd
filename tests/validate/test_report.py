"""The validation run end to end: report.json, report.html, plots, sheets and bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest
from PIL import Image

from robopref.errors import InputError
from robopref.pool import Pool
from robopref.validate import ValidateConfig, load_pairs, load_rewards, read_report, validate


def test_report_json_and_html_are_written_with_every_part(
    pool_with_frames: Pool,
    honest_scorer: Any,
    make_pairs: Callable[..., pd.DataFrame],
    tmp_path: Path,
) -> None:
    out = tmp_path / "validation"
    report = validate(
        pool_with_frames, out, scorer=honest_scorer, test_pairs=make_pairs(pool_with_frames)
    )
    data = read_report(out)
    assert data["n_trajectories"] == len(pool_with_frames) == report.n_trajectories
    assert data["ranking"]["overall"]["accuracy"] >= 0.9  # honest scorer, labels from truth
    assert data["ranking"]["calibration"]["ece"] is not None
    assert data["distribution"]["expert_vs_random"]["separated"] is True
    assert data["distribution"]["correlations"]["quality_score"]["rho"] > 0.8
    assert [p["name"] for p in data["probes"]] == ["length", "stillness", "gripper_closed"]
    assert len(data["top"]) == len(data["bottom"]) == 20
    assert data["top"][0]["reward"] >= data["top"][-1]["reward"]
    assert data["bottom"][0]["reward"] <= data["bottom"][-1]["reward"]
    html = (out / "report.html").read_text()
    for heading in ("1. Held-out ranking accuracy", "2. Reward distribution", "3. Reward-hacking"):
        assert heading in html
    assert html.count("data:image/png;base64,") == 5  # 3 plots + 2 contact sheets
    for relative in data["files"].values():
        assert (out / relative).is_file()
    rewards = pq.read_table(out / "rewards.parquet").to_pandas()
    assert set(rewards["trajectory_id"]) == set(pool_with_frames.manifest["trajectory_id"])
    assert json.loads((out / "config.json").read_text())["config"]["sheet_count"] == 20


def test_contact_sheets_have_one_row_per_trajectory(
    pool_with_frames: Pool, honest_scorer: Any, tmp_path: Path
) -> None:
    config = ValidateConfig(sheet_count=5, sheet_frames=3, sheet_thumb_px=40)
    validate(pool_with_frames, tmp_path / "v", scorer=honest_scorer, config=config)
    top = Image.open(tmp_path / "v" / "sheets" / "top.png")
    bottom = Image.open(tmp_path / "v" / "sheets" / "bottom.png")
    assert top.size == bottom.size
    assert top.size[0] == 300 + 3 * (40 + 4)
    assert top.size[1] > 5 * 40


def test_a_pool_without_frames_skips_sheets_and_stillness_with_a_note(
    pool_without_frames: Pool, honest_scorer: Any, tmp_path: Path
) -> None:
    report = validate(pool_without_frames, tmp_path / "v", scorer=honest_scorer)
    assert report.camera is None
    assert not (tmp_path / "v" / "sheets").exists()
    stillness = next(p for p in report.probes if p.name == "stillness")
    assert stillness.n == 0 and "no camera frames" in stillness.note
    assert any("no camera frames" in n for n in report.notes)
    assert any("no held-out test pairs" in n for n in report.notes)
    assert report.ranking is None and len(report.top) == 20


def test_precomputed_rewards_give_the_same_report_as_the_scorer(
    pool_without_frames: Pool, tmp_path: Path
) -> None:
    manifest = pool_without_frames.manifest
    rewards = dict(zip(manifest["trajectory_id"], manifest["quality_score"], strict=True))
    first = validate(pool_without_frames, tmp_path / "a", rewards=rewards)
    again = validate(
        pool_without_frames,
        tmp_path / "b",
        rewards=load_rewards(tmp_path / "a" / "rewards.parquet", pool_without_frames),
    )
    assert first.distribution == again.distribution
    assert first.distribution.correlations["quality_score"].rho == pytest.approx(1.0)


def test_rerunning_into_the_same_folder_replaces_the_report(
    pool_without_frames: Pool, honest_scorer: Any, length_scorer: Any, tmp_path: Path
) -> None:
    validate(pool_without_frames, tmp_path / "v", scorer=honest_scorer)
    validate(pool_without_frames, tmp_path / "v", scorer=length_scorer)
    assert "length" in read_report(tmp_path / "v")["flagged_probes"]
    assert [p.name for p in tmp_path.iterdir()] == ["v"]  # no temporary folders left


def test_pairs_with_a_missing_column_name_the_file_and_field(
    pool_without_frames: Pool, make_pairs: Callable[..., pd.DataFrame], tmp_path: Path
) -> None:
    path = tmp_path / "test.parquet"
    make_pairs(pool_without_frames).drop(columns=["trajectory_b_id"]).to_parquet(path)
    with pytest.raises(InputError) as info:
        load_pairs(path, pool_without_frames)
    assert info.value.path == str(path) and info.value.field == "trajectory_b_id"


def test_pairs_with_unknown_trajectories_or_bad_preferences_are_rejected(
    pool_without_frames: Pool, make_pairs: Callable[..., pd.DataFrame], tmp_path: Path
) -> None:
    pairs = make_pairs(pool_without_frames)
    path = tmp_path / "test.jsonl"
    bad = pairs.assign(trajectory_a_id=["nope"] * len(pairs))
    path.write_text(bad.to_json(orient="records", lines=True))
    with pytest.raises(InputError) as info:
        load_pairs(path, pool_without_frames)
    assert info.value.field == "trajectory_a_id" and "nope" in info.value.message
    path.write_text(pairs.assign(preference=2.0).to_json(orient="records", lines=True))
    with pytest.raises(InputError, match="preference"):
        load_pairs(path, pool_without_frames)


def test_missing_files_and_incomplete_rewards_raise_input_errors(
    pool_without_frames: Pool, tmp_path: Path
) -> None:
    with pytest.raises(InputError) as info:
        load_pairs(tmp_path / "absent.parquet", pool_without_frames)
    assert info.value.path.endswith("absent.parquet")
    partial = pd.DataFrame({"trajectory_id": ["v-000"], "reward": [1.0]})
    partial.to_parquet(tmp_path / "r.parquet")
    with pytest.raises(InputError) as info:
        load_rewards(tmp_path / "r.parquet", pool_without_frames)
    assert info.value.field == "trajectory_id"
    with pytest.raises(InputError, match="rewards"):
        validate(pool_without_frames, tmp_path / "v")


def test_an_unrelated_output_folder_is_not_overwritten(
    pool_without_frames: Pool, honest_scorer: Any, tmp_path: Path
) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("mine")
    with pytest.raises(InputError) as info:
        validate(pool_without_frames, tmp_path / "busy", scorer=honest_scorer)
    assert info.value.field == "--out" and "did not create" in info.value.message
    assert (tmp_path / "busy" / "keep.txt").read_text() == "mine"

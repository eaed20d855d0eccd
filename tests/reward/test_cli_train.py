import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import robopref.reward
from robopref.cli import app
from robopref.pool import Pool
from robopref.testing import write_preferences


def test_train_writes_a_checkpoint_and_prints_a_summary(
    state_prefs_file: Path, state_pool: Pool, tmp_path: Path
) -> None:
    out = tmp_path / "model"
    yaml_file = tmp_path / "run.yaml"
    yaml_file.write_text("epochs: 5\nencoder:\n  n_steps: 8\n  language: false\n")
    args = ["train", str(state_prefs_file), str(state_pool.root), "--out", str(out)]
    args += ["--config", str(yaml_file), "--ensemble", "2", "--device", "cpu", "--onnx"]
    args += ["--label-flip", "0.1", "--bootstrap", "weights"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "test accuracy" in result.output and str(out) in result.output
    model = robopref.reward.load(out)
    assert model.n_members == 2 and model.spec.encoder.n_steps == 8  # YAML, then flags
    assert model.record["train_config"]["epochs"] == 5
    assert model.record["train_config"]["loss"]["label_flip"] == 0.1
    assert model.record["train_config"]["bootstrap"] == "weights"
    assert json.loads((out / "onnx_input_format.json").read_text())["parity_max_abs_diff"] <= 1e-4


def test_bad_preferences_raise_input_error_naming_the_field(
    state_prefs: pd.DataFrame, state_pool: Pool, tmp_path: Path
) -> None:
    path = write_preferences(state_prefs.assign(trajectory_a_id="ghost"), tmp_path / "p.parquet")
    result = CliRunner().invoke(app, ["train", str(path), str(state_pool.root), "--epochs", "1"])
    assert result.exit_code == 2
    assert "trajectory_a_id" in result.output and "p.parquet" in result.output


def test_unknown_yaml_field_is_an_input_error(
    state_prefs_file: Path, state_pool: Pool, tmp_path: Path
) -> None:
    yaml_file = tmp_path / "run.yaml"
    yaml_file.write_text("encoder:\n  depth: 3\n")
    result = CliRunner().invoke(
        app, ["train", str(state_prefs_file), str(state_pool.root), "--config", str(yaml_file)]
    )
    assert result.exit_code == 2
    assert "encoder.depth" in result.output


def test_help_shows_defaults_from_the_config() -> None:
    result = CliRunner().invoke(app, ["train", "--help"])
    assert result.exit_code == 0
    assert "Example: robopref train" in result.output
    assert f"[{robopref.reward.TrainConfig.epochs}]" in result.output


@pytest.mark.parametrize(
    "flag",
    [["--lr", "-1"], ["--encoder", "vit"], ["--label-flip", "0.6"], ["--bootstrap", "jackknife"]],
)
def test_bad_flag_values_exit_2_naming_the_field(
    state_prefs_file: Path, state_pool: Pool, flag: list[str]
) -> None:
    result = CliRunner().invoke(app, ["train", str(state_prefs_file), str(state_pool.root), *flag])
    assert result.exit_code == 2
    field = {"--lr": "lr", "--encoder": "kind"}.get(flag[0], flag[0][2:].replace("-", "_"))
    assert field in result.output

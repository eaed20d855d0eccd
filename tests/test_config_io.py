"""Configs from YAML: every wrong value is refused at the boundary, naming the dotted field."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from robopref.campaign.config import CampaignConfig
from robopref.cli.config_file import build_config
from robopref.config_io import ConfigError, config_from_dict
from robopref.errors import InputError
from robopref.pairs.config import PairsConfig
from robopref.pool.config import GenerateConfig, IngestConfig
from robopref.quality.config import QAConfig
from robopref.release.config import ReleaseConfig
from robopref.render.config import RenderConfig
from robopref.reward.config import Bootstrap, Temporal, TrainConfig
from robopref.validate.config import ValidateConfig

STAGE_CONFIGS = (
    GenerateConfig, IngestConfig, RenderConfig, PairsConfig, QAConfig, CampaignConfig,
    TrainConfig, ValidateConfig, ReleaseConfig,
)  # fmt: skip
"""The config each verb's `--config` fills."""


def dotted_fields(cls: type, prefix: str = "") -> list[str]:
    """Every field of `cls` and of its nested configs, dotted (`encoder.n_steps`)."""
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        out.append(f"{prefix}{f.name}")
        if dataclasses.is_dataclass(hints[f.name]):
            out += dotted_fields(hints[f.name], f"{prefix}{f.name}.")
    return out


def nested(path: str, value: Any) -> dict[str, Any]:
    """`{"a": {"b": value}}` for `a.b`."""
    head, _, rest = path.partition(".")
    return {head: nested(rest, value) if rest else value}


FIELDS = [(cls, path) for cls in STAGE_CONFIGS for path in dotted_fields(cls)]
ALL_FIELDS = {cls: set(dotted_fields(cls)) for cls in STAGE_CONFIGS}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=5,
)


@settings(max_examples=400, deadline=None)
@given(target=st.sampled_from(FIELDS), value=json_values)
def test_any_json_value_for_any_field_builds_or_names_the_field(
    target: tuple[type, str], value: Any
) -> None:
    cls, path = target
    try:
        config_from_dict(cls, nested(path, value))
    except ConfigError as exc:
        if exc.field != path and not exc.field.startswith((f"{path}.", f"{path}[")):
            # a rule across fields names its first field, and the message this one
            assert exc.field in ALL_FIELDS[cls] and path.rsplit(".")[-1] in exc.message, exc


@pytest.mark.parametrize(
    ("data", "field", "says"),
    [
        ({"epochs": "ten"}, "epochs", "'ten' is a string, not an integer"),
        ({"epochs": 2.5}, "epochs", "not an integer"),
        ({"epochs": True}, "epochs", "a boolean, not an integer"),
        ({"epochs": None}, "epochs", "null is not allowed"),
        ({"epochs": 10**30}, "epochs", "64-bit"),
        ({"lr": float("nan")}, "lr", "not a finite number"),
        ({"lr": "1e-3"}, "lr", "a string, not a number"),
        ({"amp": "yes"}, "amp", "not true or false"),
        ({"amp": 1}, "amp", "not true or false"),
        ({"device": ["cpu"]}, "device", "a list, not a string"),
        ({"device": "cpu\x00"}, "device", "'\\x00'"),
        ({"cache_dir": 3}, "cache_dir", "not a path"),
        ({"encoder": ["conv"]}, "encoder", "a list, not a mapping of EncoderConfig fields"),
        ({"encoder": "conv"}, "encoder", "not a mapping of EncoderConfig fields"),
        ({"encoder": {"n_steps": {"a": 1}}}, "encoder.n_steps", "a mapping, not an integer"),
        ({"encoder": {"temporal": "max"}}, "encoder.temporal", "not one of"),
        ({"encoder": {"dropout": 2.0}}, "encoder.dropout", "must lie in [0, 1)"),
        ({"loss": {"tie_margn": 1}}, "loss.tie_margn", "did you mean 'tie_margin'"),
        ({"split": [1]}, "split", "not one of ['pair', 'trajectory']"),
    ],
    ids=lambda v: None,
)
def test_wrong_values_name_the_dotted_field(data: dict[str, Any], field: str, says: str):
    with pytest.raises(ConfigError) as info:
        config_from_dict(TrainConfig, data)
    assert info.value.field == field and says in info.value.message


def test_values_are_converted_to_the_fields_types():
    cfg = config_from_dict(
        TrainConfig,
        {"lr": 1, "cache_dir": "cache", "bootstrap": True, "encoder": {"temporal": "conv"}},
    )
    assert cfg.lr == 1.0 and isinstance(cfg.lr, float)
    assert cfg.cache_dir == Path("cache") and cfg.bootstrap is Bootstrap.RESAMPLE
    assert cfg.encoder.temporal is Temporal.CONV
    generate = config_from_dict(GenerateConfig, {"tasks": ["reach-v3"], "settle_steps": None})
    assert generate.tasks == ("reach-v3",) and generate.settle_steps is None
    with pytest.raises(ConfigError) as info:
        config_from_dict(GenerateConfig, {"tasks": ["reach-v3", 7]})
    assert info.value.field == "tasks[1]"


YAML_CASES = [
    ("not-a-mapping", "- epochs\n- 3\n", "config", "must be a mapping"),
    ("scalar", "3\n", "config", "must be a mapping"),
    ("syntax", "epochs: [1,\n", "line 2", "invalid YAML"),
    ("python-tag", "epochs: !!python/object/apply:os.system [echo]\n", "line 1",
     "!!python/object/apply:os.system is not allowed"),
    ("custom-tag", "epochs: !ten 10\n", "line 1", "!ten is not allowed"),
    ("duplicate-key", "epochs: 1\nlr: 0.1\nepochs: 2\n", "epochs", "given twice (line 3)"),
    ("huge-number", f"epochs: {'9' * 5000}\n", "config", "invalid YAML"),
    ("nested-list", "loss: [1, 2]\n", "loss", "not a mapping of LossConfig"),
    ("unknown", "epoch: 3\n", "epoch", "not a field of TrainConfig"),
    ("nan", "lr: .nan\n", "lr", "not a finite number"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "field", "says"), [c[1:] for c in YAML_CASES], ids=[c[0] for c in YAML_CASES]
)
def test_a_bad_yaml_file_is_an_input_error_naming_file_and_field(
    tmp_path: Path, text: str, field: str, says: str
) -> None:
    path = tmp_path / "run.yaml"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        build_config(TrainConfig, path)
    assert (info.value.path, info.value.field) == (str(path), field)
    assert says in info.value.message


def test_unreadable_files_and_empty_ones(tmp_path: Path) -> None:
    binary = tmp_path / "run.yaml"
    binary.write_bytes(b"epochs: \xff\n")
    with pytest.raises(InputError, match="not UTF-8"):
        build_config(TrainConfig, binary)
    with pytest.raises(InputError, match="unreadable"):
        build_config(TrainConfig, tmp_path)
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing set\n")
    assert build_config(TrainConfig, empty, epochs=3).epochs == 3


def test_flags_override_the_file_and_their_errors_name_the_command_line(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("epochs: 5\nencoder: {kind: conv, n_steps: 8}\n")
    cfg = build_config(TrainConfig, path, epochs=2, encoder={"n_steps": 4, "kind": None})
    assert (cfg.epochs, cfg.encoder.kind, cfg.encoder.n_steps) == (2, "conv", 4)
    with pytest.raises(InputError) as info:
        build_config(TrainConfig, path, epochs=0)
    assert (info.value.path, info.value.field) == ("command line", "epochs")
    path.write_text("encoder: conv\n")
    with pytest.raises(InputError) as info:
        build_config(TrainConfig, path, encoder={"n_steps": 4})
    assert (info.value.path, info.value.field) == (str(path), "encoder")

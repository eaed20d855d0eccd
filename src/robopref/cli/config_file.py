"""Filling a stage config from `--config run.yaml` plus command-line flags."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, TypeVar

import yaml

from robopref.errors import InputError

C = TypeVar("C")


def build_config(cls: type[C], config_file: Path | None, **flags: Any) -> C:
    """Build `cls` from a YAML file's top-level keys, then flags that are not None.

    Raises:
        InputError: The file is unreadable or names a field `cls` does not have.
    """
    values: dict[str, Any] = {}
    if config_file is not None:
        try:
            loaded = yaml.safe_load(config_file.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise InputError(config_file, "config", f"unreadable: {exc}") from exc
        if not isinstance(loaded, dict):
            raise InputError(config_file, "config", "must be a mapping of field: value")
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        for key in loaded:
            if key not in names:
                raise InputError(config_file, key, f"not a field of {cls.__name__}")
        values.update(loaded)
    values.update({k: v for k, v in flags.items() if v is not None})
    for key, value in values.items():
        if isinstance(value, list):
            values[key] = tuple(value)
    try:
        return cls(**values)
    except (ValueError, TypeError) as exc:  # __post_init__ names the field
        raise InputError(config_file or "command line", cls.__name__, str(exc)) from exc

"""Filling a stage config from `--config run.yaml` plus command-line flags."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml

from robopref.config_io import config_from_dict
from robopref.errors import InputError

C = TypeVar("C")


def build_config(cls: type[C], config_file: Path | None, **flags: Any) -> C:
    """Build `cls` from a YAML file (nested configs as mappings), then the flags given.

    A flag that is None was not given; a dict flag (e.g. `encoder={"kind": "conv"}`) sets
    fields of a nested config.

    Raises:
        InputError: The file is unreadable, names a field `cls` does not have, or a value
            fails the config's checks (the message names the dotted field).
    """
    values: dict[str, Any] = {}
    if config_file is not None:
        try:
            loaded = yaml.safe_load(config_file.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise InputError(config_file, "config", f"unreadable: {exc}") from exc
        if not isinstance(loaded, dict):
            raise InputError(config_file, "config", "must be a mapping of field: value")
        values.update(loaded)
    _merge(values, flags)
    try:
        return config_from_dict(cls, values)
    except ValueError as exc:  # the message names the (dotted) field
        raise InputError(config_file or "command line", cls.__name__, str(exc)) from exc


def _merge(values: dict[str, Any], flags: dict[str, Any]) -> None:
    """Overlay flags that were given (not None); a dict flag overlays a nested config."""
    for key, value in flags.items():
        if isinstance(value, dict):
            nested = dict(values.get(key) or {})
            _merge(nested, value)
            if nested:
                values[key] = nested
        elif value is not None:
            values[key] = value

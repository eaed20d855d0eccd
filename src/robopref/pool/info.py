"""Reading `pool.json`: the pool's layout version, scoring config and primary camera, checked.

`read_pool_info` is the one place pool.json enters robopref; every problem is an
`InputError(pool.json, field, message)` whose field is the dotted key at fault
(`schema_version`, `config.metrics.near_m`, `primary_camera`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from robopref.config_io import config_from_dict
from robopref.errors import InputError, shown
from robopref.json_files import read_json_object
from robopref.pool.config import PoolConfig
from robopref.pool.schema import SCHEMA_VERSION
from robopref.safe_paths import check_name

POOL_INFO = "pool.json"

TEXT_FIELDS = ("created_at", "robopref_version")
"""Informational fields: strings where present."""

_CONFIG_CLASSES = {"MetricsConfig": "metrics", "RubricConfig": "rubric", "PoolConfig": ""}
"""Config class → its key under `config`, for naming the field of a class's own check."""


class PoolInfo(NamedTuple):
    """What pool.json holds, checked."""

    data: dict[str, Any]
    """The whole JSON object (kept as read, so unknown fields survive a rewrite)."""
    config: PoolConfig
    """The scoring config (`config`), defaults for what it leaves out."""


def read_pool_info(path: Path) -> PoolInfo:
    """Read and check the pool.json at `path`.

    Raises:
        InputError: Missing or unreadable file, or a field of the wrong type or value.
    """
    data = read_json_object(path, field=POOL_INFO, missing="missing: not a pool folder")
    version = data.get("schema_version")
    if type(version) is not int or version != SCHEMA_VERSION:
        raise InputError(
            path, "schema_version", f"{shown(version)} is not {SCHEMA_VERSION} (unsupported)"
        )
    for name in TEXT_FIELDS:
        if name in data and not isinstance(data[name], str):
            raise InputError(path, name, f"expected a string, got {shown(data[name])}")
    camera = data.get("primary_camera")
    if camera is not None:
        check_name(camera, path=path, field="primary_camera")
    return PoolInfo(data, config_from_json(data.get("config", {}), path=path))


def config_from_json(data: object, *, path: str | Path = POOL_INFO) -> PoolConfig:
    """Rebuild a PoolConfig from its pool.json form (`dataclasses.asdict` of one).

    Raises:
        InputError: Naming the dotted field (`config.rubric.success`) and what is wrong.
    """
    if not isinstance(data, Mapping):
        raise InputError(path, "config", f"expected a JSON object, got {shown(data)}")
    for key in ("metrics", "rubric"):
        if key in data and not isinstance(data[key], Mapping):
            raise InputError(
                path, f"config.{key}", f"expected a JSON object, got {shown(data[key])}"
            )
    _check_finite(data, path, "config")
    try:
        return config_from_dict(PoolConfig, data)
    except (ValueError, TypeError) as exc:
        field, message = _field_of(str(exc))
        raise InputError(path, field, message) from exc


def _check_finite(data: Mapping[str, Any], path: str | Path, where: str) -> None:
    """JSON allows NaN and Infinity (Python writes them); no config value may be either."""
    for key, value in data.items():
        if isinstance(value, Mapping):
            _check_finite(value, path, f"{where}.{key}")
        elif isinstance(value, float) and not math.isfinite(value):
            raise InputError(path, f"{where}.{key}", f"{value} is not a finite number")


_DOTTED = re.compile(r"^([A-Za-z_][\w.]*): (.*)$", re.DOTALL)
_CLASS_FIELD = re.compile(r"\b(MetricsConfig|RubricConfig|PoolConfig)\.(\w+)")


def _field_of(message: str) -> tuple[str, str]:
    """(dotted field under `config`, message) of a config error.

    `config_from_dict` names fields as `metrics.near_m: ...`; the configs' own checks as
    `MetricsConfig.near_m must be > 0`.
    """
    dotted = _DOTTED.match(message)
    if dotted:
        message = dotted.group(2)
    named = _CLASS_FIELD.search(message)
    if named:  # the most specific name: the class's own check names its field
        section = _CONFIG_CLASSES[named.group(1)]
        return ".".join(p for p in ("config", section, named.group(2)) if p), message
    return ("config." + dotted.group(1) if dotted else "config"), message

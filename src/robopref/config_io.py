"""Building frozen config dataclasses from plain mappings (YAML, JSON), nested ones included."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

C = TypeVar("C")


def config_from_dict(cls: type[C], data: Mapping[str, Any], *, where: str = "") -> C:
    """Build the dataclass `cls` from `data`, recursing into nested config dataclasses.

    Lists become tuples where the field is a tuple, strings become `Path`s and enum members
    where the field says so; everything else is passed through to the class's own checks.

    Args:
        cls: A dataclass type.
        data: Field name → value; nested configs as mappings.
        where: Dotted prefix for error messages (used when recursing).

    Raises:
        ValueError: An unknown field (named with its dotted path) or a value the class rejects.

    >>> from robopref.pool.config import GenerateConfig
    >>> config_from_dict(GenerateConfig, {"tasks": ["reach-v3"], "pool": {"frame_crf": 20}}).pool
    PoolConfig(metrics=MetricsConfig(...), rubric=RubricConfig(...), frame_crf=20)
    """
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in names:
            raise ValueError(f"{where}{key}: not a field of {cls.__name__}")
        values[key] = _convert(hints[key], value, where=f"{where}{key}.")
    try:
        return cls(**values)
    except TypeError as exc:
        raise ValueError(f"{where.rstrip('.') or cls.__name__}: {exc}") from exc


def _convert(hint: Any, value: Any, *, where: str) -> Any:
    options = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    for option in options:
        origin = typing.get_origin(option) or option
        if dataclasses.is_dataclass(origin) and isinstance(value, Mapping):
            return config_from_dict(origin, value, where=where)  # type: ignore[arg-type]
        if origin is tuple and isinstance(value, list):
            return tuple(value)
        if origin is Path and isinstance(value, str):
            return Path(value)
        if isinstance(origin, type) and issubclass(origin, Enum) and not isinstance(value, Enum):
            return _enum_value(origin, value, where=where)
    return value


def _enum_value(cls: type[Enum], value: Any, *, where: str) -> Enum:
    """`cls(value)` (an enum's `_missing_` may accept legacy values).

    Raises:
        ValueError: Naming the field and the allowed values.
    """
    try:
        return cls(value)
    except ValueError:
        allowed = [m.value for m in cls]
        raise ValueError(f"{where.rstrip('.')}: {value!r} is not one of {allowed}") from None

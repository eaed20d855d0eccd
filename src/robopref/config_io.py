"""Building frozen config dataclasses from plain mappings (YAML, JSON), nested ones included.

Every value is checked against its field's type hint here, at the boundary, so a wrong type
is a `ConfigError` naming the dotted field (`encoder.n_steps`) instead of a traceback later:
bool, int, float (finite), str, Path, enums, tuples of those, `X | None`, and nested config
dataclasses. Range checks stay in each config's `__post_init__`; their `ValueError`s are
re-raised with the dotted field.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import re
import types
import typing
from collections.abc import Mapping
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

from robopref.errors import shown

C = TypeVar("C")

_INT64 = 2**63


class ConfigError(ValueError):
    """A config value that does not fit its field.

    Args:
        field: The dotted field (`loss.label_flip`), or the config class for the whole.
        message: What is wrong.
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


def config_from_dict(cls: type[C], data: Mapping[str, Any], *, where: str = "") -> C:
    """Build the dataclass `cls` from `data`, recursing into nested config dataclasses.

    Lists become tuples where the field is a tuple, strings become `Path`s and enum members
    where the field says so; a value of another type than the field's is refused.

    Args:
        cls: A dataclass type.
        data: Field name → value; nested configs as mappings.
        where: Dotted prefix for error messages (used when recursing).

    Raises:
        ConfigError: An unknown field, a value of the wrong type, or one the class rejects
            (a ValueError), named with its dotted path.

    >>> from robopref.pool.config import GenerateConfig
    >>> config_from_dict(GenerateConfig, {"tasks": ["reach-v3"], "pool": {"frame_crf": 20}}).pool
    PoolConfig(metrics=MetricsConfig(...), rubric=RubricConfig(...), frame_crf=20)
    >>> config_from_dict(GenerateConfig, {"pool": {"frame_crf": "high"}})
    Traceback (most recent call last):
    robopref.config_io.ConfigError: pool.frame_crf: 'high' is a string, not an integer
    """
    if not isinstance(data, Mapping):
        raise ConfigError(where.rstrip(".") or cls.__name__, _expected_mapping(cls, data))
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if f.init]  # type: ignore[arg-type]
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in names:
            raise ConfigError(f"{where}{key}", _unknown(cls, str(key), names))
        values[key] = _convert(hints[key], value, field=f"{where}{key}")
    try:
        return cls(**values)
    except ConfigError:
        raise
    except (TypeError, ValueError) as exc:
        raise _named(exc, names, where=where, cls=cls) from exc


_LEADING_FIELD = re.compile(r"(?:(\w+)\.)?(\w+)(: )?")


def _named(exc: Exception, names: list[str], *, where: str, cls: type) -> ConfigError:
    """The class's own error with the dotted field of the name it starts with.

    `tie_margin: must …`, `tie_margin must …` and `LossConfig.tie_margin must …` all
    become field `loss.tie_margin` (inside a nested `loss`); other messages name the config.
    """
    text = str(exc)
    found = _LEADING_FIELD.match(text)
    if found is not None and found.group(1) in (None, cls.__name__) and found.group(2) in names:
        message = text[found.end() :] if found.group(3) else text
        return ConfigError(f"{where}{found.group(2)}", message)
    return ConfigError(where.rstrip(".") or cls.__name__, text)


def _unknown(cls: type, key: str, names: list[str]) -> str:
    close = difflib.get_close_matches(key, names, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"not a field of {cls.__name__}{hint}"


def _convert(hint: Any, value: Any, *, field: str) -> Any:
    """`value` as the type `hint` says, or a ConfigError naming `field`."""
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        return _convert_union(typing.get_args(hint), value, field=field)
    if value is None:
        raise ConfigError(field, f"null is not allowed here ({_describe(hint)} expected)")
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        if isinstance(value, hint):
            return value
        if not isinstance(value, Mapping):
            raise ConfigError(field, _expected_mapping(hint, value))
        return config_from_dict(hint, value, where=f"{field}.")
    if origin is tuple:
        return _convert_tuple(typing.get_args(hint), value, field=field)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return _enum_value(hint, value, field=field)
    convert = _SCALARS.get(hint)
    return value if convert is None else convert(value, field)


def _convert_union(options: tuple[Any, ...], value: Any, *, field: str) -> Any:
    if value is None and type(None) in options:
        return None
    kinds = [o for o in options if o is not type(None)]
    errors: list[ConfigError] = []
    for option in kinds:
        try:
            return _convert(option, value, field=field)
        except ConfigError as exc:
            errors.append(exc)
    if len(errors) == 1:
        raise errors[0]
    allowed = " or ".join(_describe(o) for o in options)
    raise ConfigError(field, f"{shown(value)} is {_kind(value)}, not {allowed}")


def _convert_tuple(args: tuple[Any, ...], value: Any, *, field: str) -> tuple[Any, ...]:
    if not isinstance(value, list | tuple):
        raise ConfigError(field, f"{shown(value)} is {_kind(value)}, not a list")
    if len(args) == 2 and args[1] is Ellipsis:
        items = [args[0]] * len(value)
    elif len(args) != len(value):
        raise ConfigError(field, f"has {len(value)} items; expected {len(args)}")
    else:
        items = list(args)
    pairs = enumerate(zip(items, value, strict=True))
    return tuple(_convert(h, v, field=f"{field}[{i}]") for i, (h, v) in pairs)


def _enum_value(cls: type[Enum], value: Any, *, field: str) -> Enum:
    """`cls(value)` (an enum's `_missing_` may accept legacy values).

    Raises:
        ConfigError: Naming the field and the allowed values.
    """
    if isinstance(value, cls):
        return value
    try:
        return cls(value)
    except (TypeError, ValueError):
        allowed = [m.value for m in cls]
        raise ConfigError(field, f"{shown(value)} is not one of {allowed}") from None


def _to_bool(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(field, f"{shown(value)} is {_kind(value)}, not true or false")
    return value


def _to_int(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(field, f"{shown(value)} is {_kind(value)}, not an integer")
    if not -_INT64 <= value < _INT64:
        raise ConfigError(field, f"{shown(value)} is outside the 64-bit integer range")
    return value


def _to_float(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(field, f"{shown(value)} is {_kind(value)}, not a number")
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise ConfigError(field, f"{shown(value)} is not a finite number")
    return number


def _to_str(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(field, f"{shown(value)} is {_kind(value)}, not a string")
    _check_text(value, field)
    return value


def _to_path(value: Any, field: str) -> Path:
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str):
        raise ConfigError(field, f"{shown(value)} is {_kind(value)}, not a path (string)")
    _check_text(value, field)
    return Path(value)


def _check_text(value: str, field: str) -> None:
    """No NUL (no file system or database takes it) and no lone surrogate (not UTF-8)."""
    for char in value:
        if char == "\x00" or "\ud800" <= char <= "\udfff":
            raise ConfigError(field, f"contains the character {char!r}")


_SCALARS: dict[Any, Any] = {
    bool: _to_bool,
    int: _to_int,
    float: _to_float,
    str: _to_str,
    Path: _to_path,
}


def _kind(value: Any) -> str:
    """What a YAML user calls the value's type."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return "null" if value is None else f"a {type(value).__name__}"


def _describe(hint: Any) -> str:
    if hint is type(None):
        return "null"
    if typing.get_origin(hint) is tuple:
        return "a list"
    if dataclasses.is_dataclass(hint):
        return f"a mapping of {getattr(hint, '__name__', hint)} fields"
    names = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
    return names.get(hint, "a path" if hint is Path else getattr(hint, "__name__", str(hint)))


def _expected_mapping(cls: type, value: Any) -> str:
    return f"{shown(value)} is {_kind(value)}, not a mapping of {cls.__name__} fields"

"""Filling a stage config from `--config run.yaml` plus command-line flags."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml

from robopref.config_io import ConfigError, config_from_dict
from robopref.errors import InputError

C = TypeVar("C")


def build_config(cls: type[C], config_file: Path | None, **flags: Any) -> C:
    """Build `cls` from a YAML file (nested configs as mappings), then the flags given.

    A flag that is None was not given; a dict flag (e.g. `encoder={"kind": "conv"}`) sets
    fields of a nested config.

    Raises:
        InputError: The file is unreadable or not a YAML mapping, names a field `cls` does
            not have, or a value is of the wrong type or fails the config's checks; the error
            names the file (or `command line` for a flag) and the dotted field.
    """
    values = {} if config_file is None else read_config_file(config_file)
    given = _merge(values, flags)
    try:
        return config_from_dict(cls, values)
    except ConfigError as exc:
        from_flag = any(exc.field == g or exc.field.startswith(f"{g}.") for g in given)
        origin = "command line" if from_flag or config_file is None else config_file
        raise InputError(origin, exc.field, exc.message) from exc


def read_config_file(path: Path) -> dict[str, Any]:
    """The mapping in a YAML config file (an empty file is an empty mapping).

    Only plain YAML is read (`yaml.SafeLoader`): tags such as `!!python/object` are
    refused, and so is a key given twice.

    Raises:
        InputError: Naming the file and `config`, or the line of a syntax error.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(path, "config", f"not UTF-8 text (byte {exc.start + 1})") from exc
    except OSError as exc:
        raise InputError(path, "config", f"unreadable: {exc.strerror or exc}") from exc
    try:
        loaded = yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        raise _yaml_error(path, exc) from exc
    except (yaml.YAMLError, ValueError, RecursionError) as exc:  # e.g. a 5000-digit number
        text = str(exc) or type(exc).__name__
        raise InputError(path, "config", f"invalid YAML: {text[:200]}") from exc
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        kind = "a list" if isinstance(loaded, list) else f"the value {str(loaded)[:60]!r}"
        raise InputError(path, "config", f"must be a mapping of field: value, not {kind}")
    return loaded


def _yaml_error(path: Path, exc: yaml.MarkedYAMLError) -> InputError:
    mark = exc.problem_mark or exc.context_mark
    line = "" if mark is None else f"line {mark.line + 1}"
    if isinstance(exc, _DuplicateKey):
        return InputError(path, str(exc.key), f"given twice ({line})")
    problem = exc.problem or str(exc)
    tag = _TAG.search(problem)
    if tag is not None:
        shown = tag.group(1).replace("tag:yaml.org,2002:", "!!")
        return InputError(
            path, line or "config", f"the tag {shown} is not allowed: plain YAML values only"
        )
    return InputError(path, line or "config", f"invalid YAML: {problem}")


_TAG = re.compile(r"constructor for the tag '([^']*)'")


class _DuplicateKey(yaml.constructor.ConstructorError):
    """A mapping key given twice."""

    def __init__(self, key: object, mark: yaml.Mark) -> None:
        super().__init__(None, None, f"key {key!r} given twice", mark)
        self.key = key


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a mapping key given twice (YAML would keep the last)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, str | int | float | bool) and key in seen:
            raise _DuplicateKey(key, key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=True)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_mapping,
)


def _merge(values: dict[str, Any], flags: Mapping[str, Any], *, where: str = "") -> set[str]:
    """Overlay flags that were given (not None); a dict flag overlays a nested config.

    Returns:
        The dotted fields set by flags.
    """
    given: set[str] = set()
    for key, value in flags.items():
        if isinstance(value, dict):
            set_here = {k: v for k, v in value.items() if v is not None}
            if not set_here:
                continue
            nested = values.get(key)
            if nested is None:
                nested = values[key] = {}
            if isinstance(nested, dict):  # else config_from_dict reports the file's value
                given |= _merge(nested, set_here, where=f"{where}{key}.")
        elif value is not None:
            values[key] = value
            given.add(f"{where}{key}")
    return given

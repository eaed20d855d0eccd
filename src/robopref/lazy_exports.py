"""Stage packages that import their public names on first use, so the CLI starts fast.

A stage's `__init__.py` lists its public names for type checkers under `TYPE_CHECKING` and
sets `__getattr__ = lazy_getattr(__name__, WHERE)`: `robopref.release.config` (what the CLI
needs for `--help`) then loads without torch, SQLAlchemy or matplotlib.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_getattr(package: str, where: Mapping[str, tuple[str, str]]) -> Callable[[str], Any]:
    """A module-level `__getattr__` for `package`: name → (submodule, attribute).

    The first access imports `package.submodule` and caches the attribute in the package.
    A public name must not also be a submodule's name: importing that submodule would bind
    the module to the name (tests/test_lazy_exports.py checks every stage).
    """

    def __getattr__(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, attr = where[name]
        value = getattr(importlib.import_module(f"{package}.{module}"), attr)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__

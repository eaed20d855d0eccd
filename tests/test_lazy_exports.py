"""Stage packages export their public names lazily, and every name resolves to the real object."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
import types

import pytest

STAGES = ("campaign", "pairs", "pool", "quality", "release", "render", "store", "teachers",
          "validate", "reward", "vision")  # fmt: skip


@pytest.mark.parametrize("stage", STAGES)
def test_every_public_name_is_the_object_not_a_module_even_after_submodules_load(
    stage: str,
) -> None:
    package = importlib.import_module(f"robopref.{stage}")
    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"robopref.{stage}.{info.name}")
    for name in package.__all__:
        value = getattr(package, name)
        assert not isinstance(value, types.ModuleType), f"robopref.{stage}.{name} is a module"


def test_the_cli_loads_without_torch_sqlalchemy_or_matplotlib() -> None:
    heavy = ("torch", "sqlalchemy", "matplotlib", "pandas")
    code = f"import sys, robopref.cli; print(sorted(m for m in {heavy} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"

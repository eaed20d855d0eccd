"""Configuration of the release package (`robopref release`), as a frozen dataclass."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from robopref.outputs import check_output_dir

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_VERSION = re.compile(r"^[0-9]+(\.[0-9]+){0,2}([.-]?[A-Za-z0-9]+)*$")


@dataclass(frozen=True, kw_only=True)
class ReleaseConfig:
    """One release: its name and version, and which model artefacts to build."""

    name: str = "demo"
    """Dataset name; the folder and archive are `robopref-release-<name>-<version>`."""
    version: str = "0.1.0"
    """Release version (e.g. `1.0.0`, `2024.06`, `1.0.0-rc1`)."""
    onnx: bool = True
    """Export the reward model to ONNX (with the ONNX Runtime parity check)."""
    pt: bool = True
    """Also write `reward_model.pt`: the ensemble state dict and its spec, loadable with
    `torch.load(path, weights_only=True)` (the safetensors folder in `model/` stays the
    canonical checkpoint)."""
    parity_atol: float = 1e-4
    """Largest accepted |ONNX Runtime − PyTorch| reward difference at export."""
    parity_trajectories: int = 8
    """Pool trajectories the parity check scores (with random inputs of the same format)."""
    notebook_seed: int = 0
    """Seed the notebook trains its small model with."""
    overwrite: bool = False
    """Replace an existing release of the same name and version (otherwise an error)."""

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"name: {self.name!r} must be 1–64 of letters, digits, . _ -")
        if not _VERSION.match(self.version) or len(self.version) > 32:
            raise ValueError(f"version: {self.version!r} is not a version such as 1.0.0")
        if not 0.0 < self.parity_atol <= 1e-2:
            raise ValueError(f"parity_atol: must lie in (0, 1e-2], got {self.parity_atol}")
        if self.parity_trajectories < 1:
            raise ValueError(f"parity_trajectories: must be ≥ 1, got {self.parity_trajectories}")

    @property
    def stem(self) -> str:
        """`robopref-release-<name>-<version>`: the folder name and the archive stem."""
        return f"robopref-release-{self.name}-{self.version}"


OUTPUT_KIND = "release"
"""The `robopref.outputs` kind of a releases folder (`robopref release --out`)."""


def check_release_out(out: Path) -> None:
    """Refuse `out` unless absent, empty, or an earlier releases folder (`robopref.outputs`)."""
    check_output_dir(out, OUTPUT_KIND, recognise=is_release_folder)


def is_release_folder(folder: Path) -> bool:
    """A releases folder written before output markers existed."""
    return any(folder.glob("robopref-release-*.tar.gz.sha256"))

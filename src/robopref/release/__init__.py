"""The release package: data, model files, cards, notebook, versioned archive with checksums."""

from __future__ import annotations

from typing import TYPE_CHECKING

from robopref.lazy_exports import lazy_getattr

if TYPE_CHECKING:
    from robopref.release.archive import verify_checksums, write_archive, write_checksums
    from robopref.release.config import ReleaseConfig
    from robopref.release.package import ReleaseInputs, ReleaseResult, build_release
    from robopref.release.parquet import check_annotations, check_preferences

_WHERE = {
    "verify_checksums": ("archive", "verify_checksums"),
    "write_archive": ("archive", "write_archive"),
    "write_checksums": ("archive", "write_checksums"),
    "ReleaseConfig": ("config", "ReleaseConfig"),
    "ReleaseInputs": ("package", "ReleaseInputs"),
    "ReleaseResult": ("package", "ReleaseResult"),
    "build_release": ("package", "build_release"),
    "check_annotations": ("parquet", "check_annotations"),
    "check_preferences": ("parquet", "check_preferences"),
}

__all__ = [
    "ReleaseConfig",
    "ReleaseInputs",
    "ReleaseResult",
    "build_release",
    "check_annotations",
    "check_preferences",
    "verify_checksums",
    "write_archive",
    "write_checksums",
]

__getattr__ = lazy_getattr(__name__, _WHERE)

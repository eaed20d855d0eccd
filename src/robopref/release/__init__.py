"""The release package: data, model files, cards, notebook, versioned archive with checksums."""

from robopref.release.archive import verify_checksums, write_archive, write_checksums
from robopref.release.config import ReleaseConfig
from robopref.release.package import ReleaseInputs, ReleaseResult, build_release
from robopref.release.parquet import check_annotations, check_preferences

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

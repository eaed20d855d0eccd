"""Opening a malformed pool: every variant of the fuzz corpus is one InputError, in-process.

The same variants run through the CLI in tests/fuzz/test_fuzz_pool.py (a sample of them,
since a subprocess costs a second); here all of them run against the reader directly.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.fuzz import pool_corpus as corpus

import robopref.pool as rp
from robopref.errors import InputError
from robopref.pool.manifest import unsafe_name_mask
from robopref.safe_paths import is_safe_name


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("base")
    corpus.build_base(folder)
    return folder / "pool"


def _sizes(base: Path) -> tuple[int, int, int]:
    return (
        (base / "manifest.parquet").stat().st_size,
        (base / corpus.ARRAYS).stat().st_size,
        (base / corpus.VIDEO).stat().st_size,
    )


_SIZES = (9000, 4000, 3000)  # about those of the base; only the cut offsets depend on them
POOL_VARIANTS = [*corpus.manifest_variants(_SIZES[0]), *corpus.info_variants()]
FILE_VARIANTS = [
    *corpus.meta_variants(),
    *corpus.arrays_variants(_SIZES[1]),
    *corpus.video_variants(_SIZES[2]),
]


def _broken(base: Path, tmp_path: Path, variant: corpus.PoolVariant) -> Path:
    root = tmp_path / "pool"
    shutil.copytree(base, root)
    variant.mutate(root)
    return root


def _assert_names(exc: InputError, variant: corpus.PoolVariant) -> None:
    assert variant.file in exc.path, f"{exc} does not name {variant.file}"
    shown = f"{exc.field}: {exc.message}"  # as the CLI prints it (a cross-field check names both)
    assert variant.field in shown, f"{exc} does not name the field {variant.field}"


@pytest.mark.parametrize("variant", POOL_VARIANTS, ids=lambda v: v.name)
def test_malformed_manifest_or_pool_json_is_refused_naming_file_and_field(
    base: Path, tmp_path: Path, variant: corpus.PoolVariant
) -> None:
    root = _broken(base, tmp_path, variant)
    with pytest.raises(InputError) as info:
        rp.open(root)
    _assert_names(info.value, variant)


@pytest.mark.parametrize("variant", FILE_VARIANTS, ids=lambda v: v.name)
def test_malformed_trajectory_files_are_refused_when_read(
    base: Path, tmp_path: Path, variant: corpus.PoolVariant
) -> None:
    pool = rp.open(_broken(base, tmp_path, variant))
    with pytest.raises(InputError) as info:
        traj = pool[corpus.TARGET]
        for camera in traj.cameras:
            traj.frames[camera]  # decoding is lazy: touch every camera
    _assert_names(info.value, variant)


def test_the_corpus_base_is_valid_and_its_sizes_are_close(base: Path) -> None:
    pool = rp.open(base)
    assert all(traj.frames["front"].shape[0] == 12 for traj in pool)
    for actual, assumed in zip(_sizes(base), _SIZES, strict=True):
        assert 0.3 < actual / assumed < 3, "update _SIZES to the base's file sizes"


def test_a_camera_link_out_of_the_pool_is_refused(base: Path, tmp_path: Path) -> None:
    root = _broken(base, tmp_path, corpus.PoolVariant("", "", "", lambda p: None))
    outside = tmp_path / "elsewhere.mp4"
    shutil.copy(root / corpus.VIDEO, outside)
    (root / corpus.VIDEO).unlink()
    (root / corpus.VIDEO).symlink_to(outside)
    with pytest.raises(InputError, match="outside"):
        rp.open(root)[corpus.TARGET]


def test_a_trajectory_folder_link_out_of_the_pool_is_refused(base: Path, tmp_path: Path) -> None:
    root = _broken(base, tmp_path, corpus.PoolVariant("", "", "", lambda p: None))
    folder = root / "trajectories" / corpus.TARGET
    shutil.move(folder, tmp_path / "moved")
    folder.symlink_to(tmp_path / "moved")
    with pytest.raises(InputError, match="outside"):
        rp.open(root)[corpus.TARGET]


def test_an_int64_manifest_written_by_pandas_is_accepted(base: Path, tmp_path: Path) -> None:
    root = _broken(base, tmp_path, corpus.PoolVariant("", "", "", lambda p: None))
    frame = rp.open(root).manifest
    frame["n_steps"] = frame["n_steps"].astype("int64")
    frame["quartile"] = frame["quartile"].astype("int64")
    frame.to_parquet(root / "manifest.parquet")
    reopened = rp.open(root)
    assert reopened.manifest["n_steps"].dtype == np.int32
    assert len(reopened[corpus.TARGET].state) == 12


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.text(max_size=110) | st.sampled_from(["con.x", "a..b", "b.", "Lpt1"]), max_size=8)
)
def test_vectorised_safe_name_check_agrees_with_is_safe_name(names: list[str]) -> None:
    try:
        array = pa.array(names, pa.string())
    except (pa.ArrowInvalid, UnicodeEncodeError):
        return  # lone surrogates: not representable in a Parquet string column at all
    assert list(~unsafe_name_mask(array)) == [is_safe_name(n) for n in names]

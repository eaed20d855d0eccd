"""Property tests of the importers' readers: any value parses to a valid one or is an InputError.

Never another exception: these readers are where a source's raw values enter, so whatever
a file holds (JSON of any shape, HDF5 scalars, numpy arrays of any dtype, bytes of a
truncated archive), the result either meets the reader's contract or names file and field.
"""

from __future__ import annotations

import io
import math
import os
import tempfile
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from robopref.errors import InputError
from robopref.json_files import as_object, parse_json
from robopref.pool.ingest.arrays import (
    MIN_STEPS,
    as_float_matrix,
    as_frames,
    as_success,
    as_times,
    require_steps,
)
from robopref.pool.ingest.fields import (
    MAX_FPS,
    MAX_INDEX,
    MAX_TEXT_CHARS,
    read_flag,
    read_fps,
    read_int,
    read_names,
    read_text,
)
from robopref.pool.ingest.lerobot_meta import expand
from robopref.pool.ingest.npz_archive import load_npz

PATH, FIELD = "source/info.json", "fps"

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=8,
)
"""Any JSON value (NaN and infinities included, as Python's json module reads them)."""

numpy_scalars = hnp.arrays(
    dtype=hnp.scalar_dtypes() | hnp.byte_string_dtypes() | hnp.unicode_string_dtypes(),
    shape=hnp.array_shapes(min_dims=0, max_dims=2, max_side=3),
)
"""What an HDF5 attribute or a parquet cell can come back as."""
raw_values = json_values | numpy_scalars | st.binary(max_size=8)


def _named(error: InputError) -> None:
    assert error.path == PATH and FIELD in error.field


@given(raw_values)
def test_read_fps_gives_a_positive_finite_rate_or_an_input_error(value):
    try:
        fps = read_fps(value, path=PATH, field=FIELD)
    except InputError as error:
        _named(error)
    else:
        assert isinstance(fps, float) and math.isfinite(fps) and 0 < fps <= MAX_FPS


@given(raw_values)
def test_read_int_gives_an_integer_in_range_or_an_input_error(value):
    try:
        number = read_int(value, path=PATH, field=FIELD, minimum=1)
    except InputError as error:
        _named(error)
    else:
        assert type(number) is int and 1 <= number <= MAX_INDEX


@given(raw_values | st.text())
def test_read_text_gives_storable_text_or_an_input_error(value):
    try:
        text = read_text(value, path=PATH, field=FIELD)
    except InputError as error:
        _named(error)
    else:
        if text is not None:
            assert isinstance(text, str) and 0 < len(text) <= MAX_TEXT_CHARS
            text.encode("utf-8")  # no lone surrogates
            assert all(unicodedata.category(c) != "Cc" or c in "\t\n\r" for c in text)


@given(raw_values)
def test_read_flag_names_and_object_give_their_type_or_an_input_error(value):
    for reader, valid in (
        (read_flag, lambda v: v is None or isinstance(v, bool)),
        (read_names, lambda v: v is None or all(isinstance(n, str) and n for n in v)),
        (as_object, lambda v: isinstance(v, dict)),
    ):
        try:
            result = reader(value, path=PATH, field=FIELD)
        except InputError as error:
            _named(error)
        else:
            assert valid(result), (reader.__name__, value, result)


@given(st.text() | st.binary())
def test_parse_json_parses_or_names_the_file(text):
    try:
        parse_json(text, path=PATH, field=FIELD)
    except InputError as error:
        _named(error)


def test_parse_json_refuses_duplicate_keys():
    with pytest.raises(InputError, match="appears twice"):
        parse_json('{"fps": 10, "fps": 20}', path=PATH, field=FIELD)


_shapes = hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=4)
per_step_arrays = hnp.arrays(
    dtype=hnp.scalar_dtypes() | hnp.unicode_string_dtypes(), shape=_shapes
) | hnp.arrays(np.dtype(object), _shapes, elements=st.none() | st.text(max_size=2) | st.floats())
"""Arrays of any dtype and rank, as an NPZ, HDF5 or parquet column (objects) can hold them."""


@given(per_step_arrays, st.integers(0, 4))
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_array_readers_give_their_contract_or_an_input_error(array, n):
    checks = (
        (as_float_matrix, lambda r: r.dtype == np.float32 and r.ndim == 2 and len(r) == n),
        (as_times, lambda r: r.shape == (n,) and np.all(np.diff(r) > 0)),
        (as_frames, lambda r: r.dtype == np.uint8 and r.shape[0] == n and min(r.shape[1:3]) >= 1),
        (as_success, lambda r: r[0] in (True, False, None)),
    )
    for reader, valid in checks:
        try:
            result = reader(array, where=PATH, field=FIELD, n=n)
        except InputError as error:
            _named(error)
        else:
            assert valid(result), reader.__name__
            if isinstance(result, np.ndarray) and result.dtype.kind == "f":
                assert np.isfinite(result).all()


@given(st.integers(-3, 5))
def test_episodes_need_at_least_two_steps(n):
    if n >= MIN_STEPS:
        assert require_steps(n, where=PATH, field="state") == n
    else:
        with pytest.raises(InputError, match="at least 2"):
            require_steps(n, where=PATH, field="state")


def _valid_npz() -> bytes:
    buffer = io.BytesIO()
    rng = np.random.default_rng(0)
    np.savez_compressed(buffer, state=rng.normal(size=(3, 4)), frames_top=np.zeros((3, 2, 2, 3)))
    return buffer.getvalue()


VALID_NPZ = _valid_npz()


@given(
    st.integers(0, len(VALID_NPZ)),
    st.lists(st.tuples(st.integers(0, len(VALID_NPZ) - 1), st.integers(0, 255)), max_size=3),
)
@settings(max_examples=150, deadline=None)
def test_load_npz_of_cut_or_corrupted_bytes_gives_arrays_or_an_input_error(cut, flips):
    data = bytearray(VALID_NPZ)
    for offset, value in flips:
        data[offset] = value
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ep.npz"
        path.write_bytes(bytes(data[:cut]))
        try:
            arrays = load_npz(path)
        except InputError as error:
            assert error.path == str(path)
        else:
            assert all(isinstance(a, np.ndarray) and not a.dtype.hasobject for a in arrays.values())


@given(st.text(max_size=40), st.text(max_size=10))
def test_expanded_templates_stay_inside_the_dataset_or_are_refused(template, key):
    root = Path("/data/set")
    try:
        path = expand(root, template, path=Path(PATH), field="data_path", key=key, chunk_index=1)
    except InputError as error:
        assert error.field == "data_path"
    else:
        relative = os.path.relpath(path, root)
        assert not os.path.isabs(relative) and relative.split(os.sep)[0] != ".."

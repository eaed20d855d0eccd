"""Names from data: checked, mapped to safe file names, and joined only inside their root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from robopref.errors import InputError
from robopref.safe_paths import (
    MAX_NAME_CHARS,
    NameMap,
    check_name,
    is_safe_name,
    path_inside,
    safe_name,
)

HOSTILE = ["..", ".", "../x", "/etc/passwd", "a/b", "a\\b", "", ".hidden", "x" * 101, "nul",
           "COM1.mp4", "a\x00b", "tab\tname", "é", "trailing.", "a..b"]  # fmt: skip


@pytest.mark.parametrize("name", HOSTILE)
def test_unsafe_names_are_refused_naming_the_field(name: str) -> None:
    assert not is_safe_name(name)
    with pytest.raises(InputError) as info:
        check_name(name, path="data.npz", field="camera")
    assert info.value.path == "data.npz" and info.value.field == "camera"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_safe_name_is_always_safe_deterministic_and_keeps_safe_names(text: str) -> None:
    name = safe_name(text)
    assert is_safe_name(name) and len(name) <= MAX_NAME_CHARS
    assert safe_name(text) == name
    if is_safe_name(text):
        assert name == text


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=30), min_size=2, max_size=8, unique=True))
def test_a_name_map_gives_distinct_files_or_refuses(originals: list[str]) -> None:
    names = NameMap("src", "camera")
    try:
        mapped = [names.add(o) for o in originals]
    except InputError as exc:
        assert exc.field == "camera" and "same file name" in exc.message
        return
    assert len({m.casefold() for m in mapped}) == len(originals)
    assert names.mapping == dict(zip(originals, mapped, strict=True))


def test_names_differing_only_by_case_are_refused_they_share_a_file_elsewhere() -> None:
    names = NameMap("src", "camera")
    names.add("Front")
    with pytest.raises(InputError, match="same file name"):
        names.add("front")


def test_a_crafted_name_that_collides_with_a_mapped_one_is_refused() -> None:
    names = NameMap("src", "episode")
    mapped = names.add("a b")
    with pytest.raises(InputError, match="same file name"):
        names.add(mapped)  # a literal name equal to another's mapped form


def test_path_inside_refuses_escapes_and_links_out(tmp_path: Path) -> None:
    root = tmp_path / "pool"
    root.mkdir()
    assert path_inside(root, "trajectories", "t-1") == root / "trajectories" / "t-1"
    for part in ("..", "../x", "/abs", "a/b"):
        with pytest.raises(InputError):
            path_inside(root, part)
    os.symlink(tmp_path, root / "out")
    with pytest.raises(InputError, match="outside"):
        path_inside(root, "out", "x.mp4")
    assert path_inside(root, "c" * 100 + ".mp4").name.endswith(".mp4")  # a name + suffix

"""The one rule for output folders, staged writes, and clearing a killed run's leftovers."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path

import pytest

from robopref.errors import InputError
from robopref.outputs import (
    MARKER,
    STAGING_LOCK,
    check_output_dir,
    held_staging,
    output_dir,
    output_folder,
    output_kind,
    remove_stale_staging,
)


def test_absent_empty_and_same_kind_folders_are_accepted_everything_else_refused(
    tmp_path: Path,
) -> None:
    check_output_dir(tmp_path / "new", "model")
    (tmp_path / "empty").mkdir()
    check_output_dir(tmp_path / "empty", "model")
    with output_folder(tmp_path / "made", "model") as staged:
        (staged / "weights").write_text("w")
    assert output_kind(tmp_path / "made") == "model"
    check_output_dir(tmp_path / "made", "model")
    refused = {
        "file": tmp_path / "notes.txt",
        "notes": tmp_path / "notes",
        "other kind": tmp_path / "made",
    }
    refused["file"].write_text("x")
    refused["notes"].mkdir()
    (refused["notes"] / "a.md").write_text("mine")
    for what, folder in refused.items():
        with pytest.raises(InputError, match="never replaces a folder it did not create") as info:
            check_output_dir(folder, "validation")
        assert info.value.field == "--out", what
    os.symlink(tmp_path / "empty", tmp_path / "link")
    with pytest.raises(InputError, match="symbolic link"):
        check_output_dir(tmp_path / "link", "model")


def test_a_recogniser_accepts_an_earlier_output_without_a_marker(tmp_path: Path) -> None:
    old = tmp_path / "old"
    old.mkdir()
    (old / "report.json").write_text("{}")
    check_output_dir(old, "validation", recognise=lambda p: (p / "report.json").is_file())
    with pytest.raises(InputError):
        check_output_dir(old, "validation")


def test_a_failing_writer_leaves_nothing_and_keeps_the_earlier_output(tmp_path: Path) -> None:
    out = tmp_path / "deep" / "er" / "model"
    with pytest.raises(RuntimeError), output_folder(out, "model") as staged:
        (staged / "half").write_text("x")
        raise RuntimeError("writer failed")
    assert not (tmp_path / "deep").exists()  # the parents this run made are gone too
    with output_folder(out, "model") as staged:
        (staged / "v1").write_text("1")
    with pytest.raises(RuntimeError), output_folder(out, "model") as staged:
        raise RuntimeError("second writer failed")
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "v1"]
    assert [p.name for p in out.parent.iterdir()] == ["model"]


def test_output_dir_removes_a_folder_it_created_when_the_body_fails(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), output_dir(tmp_path / "releases", "release"):
        raise RuntimeError("no release")
    assert not (tmp_path / "releases").exists()
    with output_dir(tmp_path / "releases", "release") as folder:
        (folder / "r1.tar.gz").write_text("r")
    assert output_kind(tmp_path / "releases") == "release"


def _hold(folder: str, ready: multiprocessing.synchronize.Event) -> None:
    with held_staging(Path(folder)):
        ready.set()
        time.sleep(60)


def test_stale_staging_is_removed_but_a_live_runs_staging_survives(tmp_path: Path) -> None:
    dead = tmp_path / ".model.dead.partial"
    dead.mkdir()
    (dead / STAGING_LOCK).write_text("")
    (tmp_path / ".model.x.old").mkdir()
    (tmp_path / ".file.123.tmp").write_text("half")
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    live = tmp_path / ".model.live.partial"
    holder = context.Process(target=_hold, args=(str(live), ready))
    holder.start()
    try:
        assert ready.wait(30)
        removed = {p.name for p in remove_stale_staging(tmp_path)}
        assert removed == {".model.dead.partial", ".model.x.old", ".file.123.tmp"}
        assert live.is_dir()
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.join()
    assert {p.name for p in remove_stale_staging(tmp_path)} == {".model.live.partial"}

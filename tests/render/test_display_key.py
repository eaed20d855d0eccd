from __future__ import annotations

import json
import stat
import threading
from pathlib import Path

import pytest

from robopref.errors import InputError
from robopref.render import display_key
from robopref.render.clip import clip_files
from robopref.render.display_key import (
    KEY_FILE,
    clip_display_id,
    ensure_display_key,
    load_display_key,
)


def test_the_first_call_creates_a_private_key_and_later_calls_reuse_it(tmp_path: Path) -> None:
    clips = tmp_path / "clips"
    assert load_display_key(clips) is None
    key = ensure_display_key(clips)
    path = clips / KEY_FILE
    assert len(key) == 32 and stat.S_IMODE(path.stat().st_mode) == 0o600
    record = json.loads(path.read_text())
    assert record == {"format": "robopref-display-key", "version": 1, "key": key.hex()}
    assert ensure_display_key(clips) == key == load_display_key(clips)
    assert ensure_display_key(tmp_path / "other") != key  # random per pool
    assert sorted(p.name for p in clips.iterdir()) == [KEY_FILE]  # no temp file left


def test_display_ids_are_24_hex_stable_and_keyed(tmp_path: Path) -> None:
    key = ensure_display_key(tmp_path)
    shown = clip_display_id(key, "pick-place-v3__random__s0-0000")
    assert len(shown) == 24 and int(shown, 16) >= 0
    assert shown == clip_display_id(key, "pick-place-v3__random__s0-0000")
    assert shown != clip_display_id(key, "pick-place-v3__expert__s0-0000")
    assert shown != clip_display_id(bytes(32), "pick-place-v3__random__s0-0000")


def test_racing_creators_agree_on_one_key(tmp_path: Path) -> None:
    clips, n = tmp_path / "clips", 8
    barrier, keys = threading.Barrier(n), []

    def create() -> None:
        barrier.wait()
        keys.append(ensure_display_key(clips))

    threads = [threading.Thread(target=create) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(keys) == n and len(set(keys)) == 1
    assert load_display_key(clips) == keys[0]
    assert sorted(p.name for p in clips.iterdir()) == [KEY_FILE]


def test_a_creator_that_loses_the_race_returns_the_winners_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    winner = ensure_display_key(tmp_path)
    # the loser looked before the winner's file appeared
    monkeypatch.setattr(display_key, "load_display_key", lambda _: None)
    assert ensure_display_key(tmp_path) == winner
    assert sorted(p.name for p in tmp_path.iterdir()) == [KEY_FILE]


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("not json", KEY_FILE),
        ("[1, 2]", KEY_FILE),
        ('{"format": "other", "version": 1, "key": "' + "a" * 64 + '"}', "format"),
        ('{"format": "robopref-display-key", "version": 2, "key": "' + "a" * 64 + '"}', "version"),
        ('{"format": "robopref-display-key", "version": 1, "key": "abc"}', "key"),
        ('{"format": "robopref-display-key", "version": 1, "key": "' + "z" * 64 + '"}', "key"),
        ('{"format": "robopref-display-key", "version": 1}', "key"),
    ],
)
def test_a_malformed_key_file_names_the_file_and_field(
    tmp_path: Path, text: str, field: str
) -> None:
    (tmp_path / KEY_FILE).write_text(text)
    for call in (load_display_key, ensure_display_key):
        with pytest.raises(InputError) as err:
            call(tmp_path)
        assert err.value.field == field and err.value.path == str(tmp_path / KEY_FILE)
    assert (tmp_path / KEY_FILE).read_text() == text  # never overwritten


def test_no_trajectory_can_take_the_key_files_name(tmp_path: Path) -> None:
    with pytest.raises(InputError) as err:
        clip_files(tmp_path, "display-key")
    assert err.value.field == "trajectory_id"
    assert clip_files(tmp_path, "display-key-2")[2].name == "display-key-2.json"

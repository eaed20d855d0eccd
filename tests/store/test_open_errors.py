"""Opening a store that is not there, not a database, or not reachable is a clear InputError."""

from __future__ import annotations

from pathlib import Path

import pytest

from robopref.errors import InputError
from robopref.store import open_store


def test_a_missing_sqlite_file_is_refused_when_it_must_exist(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'none.db'}"
    with pytest.raises(InputError, match="no store there") as info:
        open_store(url, existing=True)
    assert info.value.field == "db" and not (tmp_path / "none.db").exists()
    open_store(url).dispose()  # without `existing` a new store is created
    assert (tmp_path / "none.db").is_file()


def test_a_file_that_is_not_a_database_and_a_folder_are_refused(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all" * 100)
    with pytest.raises(InputError, match="cannot open the store: file is not a database"):
        open_store(f"sqlite:///{garbage}")
    assert garbage.read_bytes().startswith(b"not a database")
    with pytest.raises(InputError, match="is a folder"):
        open_store(f"sqlite:///{tmp_path}")
    with pytest.raises(InputError, match="does not exist"):
        open_store(f"sqlite:///{tmp_path / 'no' / 'such' / 'x.db'}")


def test_an_unreachable_postgresql_server_is_an_input_error_without_the_password() -> None:
    with pytest.raises(InputError, match="cannot open the store") as info:
        open_store("postgresql+psycopg://someone:secret@127.0.0.1:1/test")
    assert "secret" not in str(info.value) and info.value.field == "db"

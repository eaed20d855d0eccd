"""Table files: written as Parquet and JSON Lines from the same rows, read by one checked reader.

- `write_table_files` (`files.py`): `<stem>.parquet` and `<stem>.jsonl` from the same rows;
- `read_table_file` / `check_table` (`reader.py`, column checks in `columns.py`): the one
  reader of preferences, annotations, pairs, assignments and rewards files, checking every
  column against its `robopref.schemas` TableSpec.
"""

from robopref.tables.files import TableFiles, json_line, write_table_files
from robopref.tables.reader import check_table, read_table_file

__all__ = ["TableFiles", "check_table", "json_line", "read_table_file", "write_table_files"]

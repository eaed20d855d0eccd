"""Store constants that the CLI needs without loading SQLAlchemy."""

DEFAULT_URL = "sqlite:///robopref.db"
"""The embedded default: a SQLite file in the working folder (WAL mode)."""

"""The only code that touches the database."""

from pathlib import Path

from live.store.db import Database, DatabaseUnavailable, InThread, Store


def open_store(url: str, path: Path) -> Store:
    """The PostgreSQL store when a URL is given, else the SQLite file (not yet opened)."""
    if url:
        from live.store.pg import PgDatabase

        return PgDatabase(url)
    return Database(path)


__all__ = ["Database", "DatabaseUnavailable", "InThread", "Store", "open_store"]

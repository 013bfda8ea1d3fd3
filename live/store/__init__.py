"""The only code that touches the database."""

from live.store.db import Database, DatabaseUnavailable, InThread

__all__ = ["Database", "DatabaseUnavailable", "InThread"]

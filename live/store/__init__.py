"""The only code that touches the database."""

from live.store.db import Database, InThread

__all__ = ["Database", "InThread"]

"""The only code that touches the database."""

from live.store.db import Database

__all__ = ["Database"]

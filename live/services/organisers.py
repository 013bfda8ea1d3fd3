"""Named organiser accounts: created from the shell, a password shown once, stored argon2-hashed."""

import asyncio
import logging

from argon2 import PasswordHasher

from live.domain import errors, tokens
from live.domain.errors import LiveError
from live.domain.text import clean
from live.store import Database, InThread
from live.store import organisers as organiser_store

log = logging.getLogger(__name__)

ORGANISER_NAME_MAX = 40
#: Random bytes in a generated password: 24 URL-safe characters, 144 bits.
PASSWORD_BYTES = 18


def organiser_name(raw: str) -> str:
    """An account's name as stored and shown in the log; its case is kept but not significant."""
    name = clean(raw)
    if not 1 <= len(name) <= ORGANISER_NAME_MAX:
        raise LiveError(
            errors.INVALID, f"An organiser's name has 1 to {ORGANISER_NAME_MAX} characters."
        )
    return name


class OrganiserService:
    """Accounts for the console; the organiser API token is separate and unchanged."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.hasher = PasswordHasher()

    async def add(self, raw_name: str) -> tuple[dict, str]:
        """A new account and its generated password, which is never stored in clear."""
        name = organiser_name(raw_name)
        password = tokens.new_token(PASSWORD_BYTES)
        password_hash = await asyncio.to_thread(self.hasher.hash, password)

        async def work(conn: InThread) -> dict:
            organiser = await organiser_store.insert_organiser(conn, name, password_hash)
            if organiser is None:
                raise LiveError(errors.CONFLICT, f"An organiser called {name!r} already exists.")
            return organiser

        organiser = await self.db.write(work)
        log.info("organiser account %r added", name)
        return organiser, password

    async def all(self) -> list[dict]:
        return await self.db.read(organiser_store.list_organisers)

    async def remove(self, raw_name: str) -> dict:
        """Close an account; its name may be given to a new one."""
        name = clean(raw_name)

        async def work(conn: InThread) -> dict:
            organiser = await organiser_store.organiser_by_name(conn, name)
            if organiser is None:
                raise LiveError(errors.NOT_FOUND, f"No organiser is called {name!r}.")
            await organiser_store.remove_organiser(conn, organiser["id"])
            return {k: organiser[k] for k in ("id", "name", "created_at")}

        organiser = await self.db.write(work)
        log.info("organiser account %r removed", organiser["name"])
        return organiser

"""Named organiser accounts: created from the shell, a password shown once, stored argon2-hashed."""

import asyncio
import logging
import time
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from live.domain import errors, tokens
from live.domain.errors import LiveError
from live.domain.text import clean
from live.store import Database, InThread
from live.store import organisers as organiser_store

log = logging.getLogger(__name__)

ORGANISER_NAME_MAX = 40
#: Random bytes in a generated password: 24 URL-safe characters, 144 bits.
PASSWORD_BYTES = 18
#: Seconds a console session lasts from its sign-in: one long event day.
SESSION_LIFETIME = 12 * 3600
WRONG_PASSWORD = "That name and password do not match an organiser account."


@dataclass(frozen=True)
class Organiser:
    """Who a console request speaks for: one session of one named account."""

    organiser_id: int
    name: str
    session_id: int
    csrf: str


def csrf_token(session_token: str) -> str:
    """The token every form of a session carries: bound to its cookie, useless without it."""
    return tokens.digest(f"csrf:{session_token}")


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
        #: Checked when no account has the name, so a wrong name costs what a wrong password does;
        #: made at the first such sign-in, not at every start.
        self._decoy: str | None = None

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
            await organiser_store.revoke_sessions_of(conn, organiser["id"])
            return {k: organiser[k] for k in ("id", "name", "created_at")}

        organiser = await self.db.write(work)
        log.info("organiser account %r removed and signed out", organiser["name"])
        return organiser

    async def sign_in(self, raw_name: str, password: str) -> tuple[dict, str]:
        """A new session token for the right name and password (stored hashed), else forbidden."""
        name = clean(raw_name)
        organiser = await self.db.read(lambda conn: organiser_store.organiser_by_name(conn, name))
        if organiser is None and self._decoy is None:
            decoy = tokens.new_token(PASSWORD_BYTES)
            self._decoy = await asyncio.to_thread(self.hasher.hash, decoy)
        stored = self._decoy if organiser is None else organiser["password_hash"]
        if not await asyncio.to_thread(self._verify, stored, password) or organiser is None:
            raise LiveError(errors.FORBIDDEN, WRONG_PASSWORD)
        rehashed = (
            await asyncio.to_thread(self.hasher.hash, password)
            if self.hasher.check_needs_rehash(stored) else None
        )
        token = tokens.new_token()

        async def work(conn: InThread) -> None:
            if rehashed is not None:
                await organiser_store.set_password_hash(conn, organiser["id"], rehashed)
            await organiser_store.insert_session(conn, organiser["id"], tokens.digest(token))

        await self.db.write(work)
        log.info("organiser %r signed in", organiser["name"])
        return {k: organiser[k] for k in ("id", "name", "created_at")}, token

    async def session(self, token: str) -> Organiser | None:
        """Who this cookie signs in, or None when it is unknown, revoked or too old."""
        if not token:
            return None
        since = time.time() - SESSION_LIFETIME
        row = await self.db.read(
            lambda conn: organiser_store.live_session(conn, tokens.digest(token), since)
        )
        if row is None:
            return None
        return Organiser(row["organiser_id"], row["name"], row["session_id"], csrf_token(token))

    async def sign_out(self, organiser: Organiser) -> None:
        await self.db.write(lambda conn: organiser_store.revoke_session(conn, organiser.session_id))
        log.info("organiser %r signed out", organiser.name)

    async def sign_out_everywhere(self, organiser: Organiser) -> int:
        """End every session of this account, on every device; how many there were."""
        count = await self.db.write(
            lambda conn: organiser_store.revoke_sessions_of(conn, organiser.organiser_id)
        )
        log.info("organiser %r signed out everywhere (%d sessions)", organiser.name, count)
        return count

    def _verify(self, stored: str, password: str) -> bool:
        try:
            return self.hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

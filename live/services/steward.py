"""Questions entered for people without a device, by stewards (their own secret) or moderators."""

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from live.domain import errors, tokens
from live.domain.changes import News, to_moderators
from live.domain.errors import LiveError
from live.domain.model import Attendance, Channel
from live.domain.views import entered_question, log_entry, moderator_question, public_event
from live.services.moderation import Moderator
from live.services.qa import admit
from live.services.unit import Outcome, Service, open_event
from live.settings import Settings
from live.store import Database, InThread
from live.store import events as event_store
from live.store import moderation as moderation_store
from live.store import participants as participant_store
from live.store import stewards as steward_store

#: Questions one steward or moderator session may enter per ENTRY_WINDOW seconds: a queue of
#: paper cards typed in fast, never a flood.
ENTRY_LIMIT = 30
ENTRY_WINDOW = 60.0
ORGANISER = "organiser"


@dataclass(frozen=True)
class Steward:
    """Who a steward's request speaks for: one session of one event, under a pseudonym."""

    event_id: int
    session_id: int
    pseudonym: str


@dataclass(frozen=True)
class Entry:
    """A question as the person without a device gave it, and how it reached the event."""

    text: str
    channel: Channel
    attendance: Attendance
    name: str | None = None
    anonymous: bool = True
    allow_duplicate: bool = False


class StewardService(Service):
    def __init__(
        self, db: Database, settings: Settings, publish: Callable[[list[News]], None]
    ) -> None:
        super().__init__(db, publish)
        self.settings = settings


    async def login(self, code: str, secret: str, pseudonym: str) -> tuple[dict, str]:
        """Exchange the event's steward secret for a new session token (stored hashed)."""
        event = await self.event(code)
        stored = await self.db.read(lambda conn: event_store.steward_secret_hash(conn, event["id"]))
        if stored is None or not await asyncio.to_thread(tokens.slow_matches, secret, stored):
            raise LiveError(errors.FORBIDDEN, "This steward secret is not right for the event.")
        token = tokens.new_token()

        async def work(conn: InThread) -> Outcome:
            await steward_store.insert_session(conn, event["id"], tokens.digest(token), pseudonym)
            entry = await moderation_store.append_log(
                conn, event_id=event["id"], moderator=pseudonym, action="steward_sign_in"
            )
            return {}, [to_moderators(event["id"], "log", {"entry": log_entry(entry)})]

        await self._write(work)
        return event, token

    async def authenticate(self, code: str, token: str | None) -> Steward:
        """Resolve the session cookie of a steward's request; revoked ones are refused."""
        event = await self.event(code)
        if not token:
            raise LiveError(errors.FORBIDDEN, "Sign in as a steward first.")
        session = await self.db.read(
            lambda conn: steward_store.live_session_by_token(conn, event["id"], tokens.digest(token))
        )
        if session is None:
            raise LiveError(errors.FORBIDDEN, "This steward session is not valid (any more).")
        return Steward(event["id"], session["id"], session["pseudonym"])

    async def sign_out(self, steward: Steward) -> None:
        async def work(conn: InThread) -> Outcome:
            await steward_store.revoke_session(conn, steward.session_id)
            return {}, []

        await self._write(work)

    async def rotate_secret(self, code: str) -> str:
        """Set a new steward secret, shown once; the old one and every steward session end."""
        event = await self.event(code)
        secret = tokens.new_token(12)
        stored = await asyncio.to_thread(tokens.slow_digest, secret)

        async def work(conn: InThread) -> Outcome:
            await event_store.set_steward_secret_hash(conn, event["id"], stored)
            ended = await steward_store.revoke_sessions(conn, event["id"])
            entry = await moderation_store.append_log(
                conn,
                event_id=event["id"],
                moderator=ORGANISER,
                action="steward_secret",
                details={"sessions_ended": ended},
            )
            return {}, [to_moderators(event["id"], "log", {"entry": log_entry(entry)})]

        await self._write(work)
        return secret

    async def entries(self, steward: Steward) -> dict:
        """The event, and what this steward entered with where each question stands now."""

        async def work(conn: InThread) -> dict:
            await _steward_session(conn, steward)
            event = await event_store.get_event(conn, steward.event_id)
            rows = await steward_store.entered_by(conn, steward.session_id)
            return {
                "event": public_event(event),
                "me": {"pseudonym": steward.pseudonym},
                "questions": [entered_question(r) for r in rows],
            }

        return await self.db.read(work)

    async def enter(self, steward: Steward, entry: Entry) -> dict:
        async def work(conn: InThread) -> Outcome:
            await _steward_session(conn, steward)
            row, news = await self._enter(
                conn, steward.event_id, entry, steward.pseudonym, "steward",
                steward_session_id=steward.session_id,
            )
            return {"question": entered_question(row)}, news

        return await self._write(work)

    async def enter_for_moderator(self, mod: Moderator, entry: Entry) -> dict:
        async def work(conn: InThread) -> Outcome:
            if await moderation_store.live_session(conn, mod.session_id) is None:
                raise LiveError(errors.FORBIDDEN, "This moderator session has been revoked.")
            row, news = await self._enter(
                conn, mod.event_id, entry, mod.pseudonym, "moderator",
                moderator_session_id=mod.session_id,
            )
            return {"question": moderator_question(row)}, news

        return await self._write(work)

    async def _enter(
        self,
        conn: InThread,
        event_id: int,
        entry: Entry,
        pseudonym: str,
        by: str,
        *,
        steward_session_id: int | None = None,
        moderator_session_id: int | None = None,
    ) -> tuple[dict, list[News]]:
        """A participant stands for the person (no device token anyone holds), then the same
        admission as every question; the log says who entered it and through which channel."""
        await open_event(conn, event_id)
        recent = await steward_store.count_entries(
            conn,
            steward_session_id=steward_session_id,
            moderator_session_id=moderator_session_id,
            since=time.time() - ENTRY_WINDOW,
        )
        if recent >= ENTRY_LIMIT:
            raise LiveError(
                errors.RATE_LIMITED,
                f"You can enter {ENTRY_LIMIT} questions every {ENTRY_WINDOW:g} seconds; "
                "please wait a moment.",
            )
        person = await participant_store.insert_participant(
            conn,
            event_id=event_id,
            token_hash=tokens.digest(tokens.new_token()),
            name=entry.name,
            attendance=entry.attendance.value,
            address_hash=None,
        )
        row, news = await admit(
            conn, self.settings, event_id, person["id"], entry.text,
            anonymous=entry.anonymous or entry.name is None,
            allow_duplicate=entry.allow_duplicate, channel=entry.channel,
        )
        await steward_store.insert_entry(
            conn,
            question_id=row["id"],
            event_id=event_id,
            steward_session_id=steward_session_id,
            moderator_session_id=moderator_session_id,
        )
        logged = await moderation_store.append_log(
            conn,
            event_id=event_id,
            moderator=pseudonym,
            action="enter",
            question_id=row["id"],
            participant_id=person["id"],
            details={"channel": entry.channel.value, "by": by},
        )
        return row, [*news, to_moderators(event_id, "log", {"entry": log_entry(logged)})]


async def _steward_session(conn: InThread, steward: Steward) -> None:
    """Authorise again inside the unit of work: a rotated secret ends the session at once."""
    if await steward_store.live_session(conn, steward.session_id) is None:
        raise LiveError(errors.FORBIDDEN, "This steward session has ended; sign in again.")

"""Creating, listing and changing events, and the organiser token that guards it."""

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass

from live.domain import codes, errors, tokens
from live.domain.changes import Change, News, to_moderators
from live.domain.errors import LiveError
from live.domain.model import EventState, ModerationMode
from live.domain.schedule import check_order
from live.domain.views import log_entry, public_event
from live.services.polls import close_open_polls
from live.services.unit import Service, refuse_unless_open
from live.store import Database, InThread
from live.store import events as event_store
from live.store import moderation as moderation_store

ORGANISER_TOKEN_KEY = "organiser_token_digest"
CODE_ATTEMPTS = 20


@dataclass(frozen=True)
class CreatedEvent:
    """A new event with the secrets that are shown once and never stored in clear."""

    event: dict
    moderator_secret: str
    screen_token: str
    steward_secret: str


class EventService(Service):
    def __init__(self, db: Database, publish: Callable[[list[News]], None]) -> None:
        super().__init__(db, publish)

    async def ensure_organiser_token(self, configured: str) -> str | None:
        """Return a freshly generated organiser token on first start, None when one exists."""
        if configured:
            return None

        async def work(conn: InThread) -> str | None:
            if await event_store.get_meta(conn, ORGANISER_TOKEN_KEY) is not None:
                return None
            token = tokens.new_token()
            await event_store.set_meta(conn, ORGANISER_TOKEN_KEY, tokens.digest(token))
            return token

        return await self.db.write(work)

    async def reset_organiser_token(self) -> str:
        """Replace the stored organiser token; the old one stops working."""
        token = tokens.new_token()

        async def work(conn: InThread) -> None:
            await event_store.set_meta(conn, ORGANISER_TOKEN_KEY, tokens.digest(token))

        await self.db.write(work)
        return token

    async def organiser_token_ok(self, presented: str, configured: str) -> bool:
        if not presented:
            return False
        if configured:
            return tokens.matches(presented, tokens.digest(configured))
        stored = await self.db.read(lambda conn: event_store.get_meta(conn, ORGANISER_TOKEN_KEY))
        return stored is not None and tokens.matches(presented, stored)

    async def create(
        self,
        *,
        title: str,
        code: str | None = None,
        description: str = "",
        stream_url: str | None = None,
        moderation: ModerationMode = ModerationMode.POST,
        demo: bool = False,
        schedule: dict | None = None,
    ) -> CreatedEvent:
        moderator_secret = tokens.new_token(12)
        screen_token = tokens.new_token()
        steward_secret = tokens.new_token(12)
        moderator_secret_hash = await asyncio.to_thread(tokens.slow_digest, moderator_secret)
        steward_secret_hash = await asyncio.to_thread(tokens.slow_digest, steward_secret)
        if code is not None:
            code = codes.normalise_code(code)
            if not codes.is_valid_code(code):
                raise LiveError(
                    errors.INVALID,
                    f"A code has 4 to 12 characters from {codes.ALPHABET} "
                    "(no 0, O, 1, I or L, which are easy to confuse).",
                )

        async def work(conn: InThread) -> dict:
            chosen = code
            if chosen is None:
                for _ in range(CODE_ATTEMPTS):
                    candidate = codes.new_code()
                    if not await event_store.code_exists(conn, candidate):
                        chosen = candidate
                        break
                else:
                    raise LiveError(errors.CONFLICT, "Could not find a free join code; try again.")
            elif await event_store.code_exists(conn, chosen):
                raise LiveError(errors.CONFLICT, f"The code {chosen} is already in use.")
            return await event_store.insert_event(
                conn,
                code=chosen,
                title=title,
                description=description,
                stream_url=stream_url,
                moderator_secret_hash=moderator_secret_hash,
                screen_token_hash=tokens.digest(screen_token),
                moderation_mode=moderation.value,
                demo=demo,
                steward_secret_hash=steward_secret_hash,
                schedule=_stored(schedule or {}),
            )

        event = await self.db.write(work)
        return CreatedEvent(event, moderator_secret, screen_token, steward_secret)

    async def cannot_write(self) -> str | None:
        """Why nothing can be written now (no room, a read-only file), for the health check."""
        return await self.db.cannot_write()

    async def demo_event(self) -> dict | None:
        return await self.db.read(event_store.get_demo_event)

    async def all(self) -> list[dict]:
        return await self.db.read(event_store.list_events)


    async def update(self, code: str, fields: dict) -> dict:
        """Change an event's details or filter settings; participants see it at once."""
        return await self._change(code, fields, while_closed=False)

    async def set_state(self, code: str, state: EventState) -> dict:
        """Close or reopen an event: the one change a closed event takes from its organisers."""
        return await self._change(code, {"state": state.value}, while_closed=True)

    async def rotate_moderator_secret(self, code: str, actor: str) -> tuple[dict, str]:
        """A new moderator secret, shown once; every moderator session of the event ends now."""
        secret = tokens.new_token(12)
        stored = await asyncio.to_thread(tokens.slow_digest, secret)

        async def work(conn: InThread) -> tuple[dict, list[News]]:
            event = await self._existing(conn, code)
            await event_store.set_moderator_secret_hash(conn, event["id"], stored)
            ended = await moderation_store.revoke_sessions_of_event(conn, event["id"])
            entry = await moderation_store.append_log(
                conn, event_id=event["id"], moderator=actor, action="rotate_moderator_secret",
                details={"sessions_ended": ended},
            )
            return event, [to_moderators(event["id"], "log", {"entry": log_entry(entry)})]

        return await self._write(work), secret

    async def rotate_screen_token(self, code: str, actor: str) -> tuple[dict, str]:
        """A new screen token, shown once; screens opened with the old one must be opened again."""
        token = tokens.new_token()

        async def work(conn: InThread) -> tuple[dict, list[News]]:
            event = await self._existing(conn, code)
            await event_store.set_screen_token_hash(conn, event["id"], tokens.digest(token))
            entry = await moderation_store.append_log(
                conn, event_id=event["id"], moderator=actor, action="rotate_screen_token"
            )
            return event, [to_moderators(event["id"], "log", {"entry": log_entry(entry)})]

        return await self._write(work), token

    @staticmethod
    async def _existing(conn: InThread, code: str) -> dict:
        code = codes.normalise_code(code)
        event = await event_store.get_event_by_code(conn, code)
        if event is None:
            raise LiveError(errors.NOT_FOUND, f"No event has the code {code}.")
        return event

    async def _change(self, code: str, fields: dict, *, while_closed: bool) -> dict:
        code = codes.normalise_code(code)
        fields = _stored({k: json.dumps(v) if isinstance(v, list) else v for k, v in fields.items()})

        async def work(conn: InThread) -> tuple[dict, list[News]]:
            event = await event_store.get_event_by_code(conn, code)
            if event is None:
                raise LiveError(errors.NOT_FOUND, f"No event has the code {code}.")
            if not while_closed:
                refuse_unless_open(event["state"])
            changed = {k: v for k, v in fields.items() if event[k] != v}
            if not changed:
                return event, []
            after = {**event, **changed}
            try:
                check_order(after["starts_at"], after["ends_at"])
            except ValueError as exc:
                raise LiveError(errors.INVALID, f"{str(exc).capitalize()}.") from None
            await event_store.update_event(conn, event["id"], changed)
            seq = await event_store.next_seq(conn, event["id"])
            event = await event_store.get_event(conn, event["id"])
            news: list[News] = [Change(event["id"], seq, "event", {"event": public_event(event)})]
            if changed.get("state") == EventState.CLOSED:
                news += await close_open_polls(conn, event["id"])
            return event, news

        return await self._write(work)


def _stored(fields: dict) -> dict:
    """Fields as the store keeps them: a yes/no as 0 or 1, which every dialect's INTEGER takes."""
    return {k: int(v) if isinstance(v, bool) else v for k, v in fields.items()}

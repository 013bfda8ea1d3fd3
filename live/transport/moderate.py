"""The /moderate namespace: moderators of one event, signed in by an HttpOnly session cookie."""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from http.cookies import CookieError, SimpleCookie

import socketio
from pydantic import BaseModel, ValidationError

from live.domain import codes, errors
from live.domain.errors import LiveError
from live.domain.model import Attendance, Channel, ModerationMode, RejectReason, ScreenMode
from live.notify import MODERATOR_NAMESPACE, moderator_room
from live.domain.polls import Audience, PollState, ResultsVisibility
from live.services.moderation import ModerationService, Moderator
from live.services.polls import PollService
from live.services.record import RecordService
from live.services.steward import Entry, StewardService
from live.transport import messages
from live.transport import moderation_schemas as schemas
from live.transport.record_schemas import ModeratorDispose
from live.transport.schemas import PollCreate, poll_spec

log = logging.getLogger(__name__)

#: How often open moderator sockets are checked against revoked sessions (closed within 2 s).
REVOCATION_CHECK_INTERVAL = 0.5
Handler = Callable[[Moderator, BaseModel], Awaitable[object]]


def session_cookie(code: str) -> str:
    """One cookie per event, so a person may moderate two events from one browser."""
    return f"live_mod_{code}"


def cookie_from(environ: dict, name: str) -> str | None:
    try:
        jar = SimpleCookie(environ.get("HTTP_COOKIE", ""))
    except CookieError:
        return None
    morsel = jar.get(name)
    return None if morsel is None else morsel.value


class ModeratorSockets:
    """Every event is authorised twice: at connect by the cookie, and per command by the session."""

    def __init__(
        self,
        sio: socketio.AsyncServer,
        service: Callable[[], ModerationService],
        polls: Callable[[], PollService],
        record: Callable[[], RecordService],
        stewards: Callable[[], StewardService],
    ) -> None:
        self.sio = sio
        self._service = service
        self._polls = polls
        self._record = record
        self._stewards = stewards
        self.moderators: dict[str, Moderator] = {}
        ns = MODERATOR_NAMESPACE
        sio.on("connect", self.connect, namespace=ns)
        sio.on("disconnect", self.disconnect, namespace=ns)
        sio.on("*", self.unknown, namespace=ns)
        self._command("snapshot", schemas.Empty, lambda m, p: self.service.snapshot(m))
        for action in ("approve", "answer", "archive"):
            self._command(action, schemas.Decision, self._decide(action))
        self._command("reject", schemas.Reject, self.reject)
        self._command("edit", schemas.Edit, self.edit)
        self._command("merge", schemas.Merge, self.merge)
        self._command("unmerge", schemas.Decision, self.unmerge)
        self._command("label", schemas.Label, self.label)
        self._command("focus", schemas.Focus, self.focus)
        self._command(
            "screen_balance",
            schemas.ScreenBalance,
            lambda m, p: self.service.show_balance(m, p.show),
        )
        self._command(
            "screen_mode",
            schemas.ScreenModeChoice,
            lambda m, p: self.service.set_screen_mode(m, ScreenMode(p.screen)),
        )
        self._command("mute", schemas.Mute, self._mute(True))
        self._command("unmute", schemas.Mute, self._mute(False))
        self._command("mode", schemas.Mode, self.mode)
        self._command("polls", schemas.Empty, lambda m, p: self._polls().for_staff(m.event_id))
        self._command("poll_create", PollCreate, self.poll_create)
        self._command("poll_open", schemas.PollRef, self._poll_state(PollState.OPEN))
        self._command("poll_close", schemas.PollRef, self._poll_state(PollState.CLOSED))
        self._command("dispose", ModeratorDispose, self.dispose)
        self._command("balance", schemas.Empty, self.balance)
        self._command("integrity", schemas.Empty, lambda m, p: self.service.integrity(m))
        self._command("enter", schemas.Enter, self.enter)

    @property
    def service(self) -> ModerationService:
        return self._service()

    def _command(self, name: str, model: type[BaseModel], handler: Handler) -> None:
        async def run(sid: str, *args: object) -> dict:
            if len(args) > 1:
                return messages.error(errors.INVALID, "Send one payload object.")

            async def act() -> object:
                moderator = self.moderators.get(sid)
                if moderator is None:
                    raise LiveError(errors.FORBIDDEN, "Sign in as a moderator first.")
                return await handler(moderator, model.model_validate(args[0] if args else {}))

            return await messages.settle(act, name)

        self.sio.on(name, run, namespace=MODERATOR_NAMESPACE)

    async def connect(self, sid: str, environ: dict, auth: object = None) -> None:
        try:
            credentials = schemas.ModeratorConnect.model_validate(auth)
            code = codes.normalise_code(credentials.event)
            moderator = await self.service.authenticate(
                code, cookie_from(environ, session_cookie(code))
            )
        except (ValidationError, LiveError) as exc:
            raise messages.refused(exc) from exc
        self.moderators[sid] = moderator
        await self.sio.enter_room(
            sid, moderator_room(moderator.event_id), namespace=MODERATOR_NAMESPACE
        )

    async def disconnect(self, sid: str, reason: object = None) -> None:
        self.moderators.pop(sid, None)

    async def unknown(self, name: str, sid: str, *args: object) -> dict:
        """Answer events nobody handles, so a client never waits for a reply that won't come."""
        return messages.error(errors.INVALID, f"There is no event called {name[:40]!r} here.")

    async def watch_revocations(self) -> None:
        """Close the sockets of revoked sessions; runs for the server's lifetime."""
        while True:
            await asyncio.sleep(REVOCATION_CHECK_INTERVAL)
            if not self.moderators:
                continue
            try:
                sessions = {m.session_id for m in self.moderators.values()}
                revoked = await self.service.revoked(sorted(sessions))
            except Exception:
                log.exception("checking moderator sessions failed")
                continue
            for sid, moderator in list(self.moderators.items()):
                if moderator.session_id in revoked:
                    self.moderators.pop(sid, None)
                    await self.sio.disconnect(sid, namespace=MODERATOR_NAMESPACE)

    def _decide(self, action: str) -> Handler:
        async def handler(mod: Moderator, p: schemas.Decision) -> object:
            return await self.service.decide(mod, action, p.question_id, p.version)

        return handler

    async def reject(self, mod: Moderator, p: schemas.Reject) -> object:
        return await self.service.decide(
            mod, "reject", p.question_id, p.version, RejectReason(p.reason), p.note
        )

    async def edit(self, mod: Moderator, p: schemas.Edit) -> object:
        return await self.service.edit(mod, p.question_id, p.version, p.text)

    async def merge(self, mod: Moderator, p: schemas.Merge) -> object:
        return await self.service.merge(mod, p.question_id, p.version, p.into)

    async def unmerge(self, mod: Moderator, p: schemas.Decision) -> object:
        return await self.service.unmerge(mod, p.question_id, p.version)

    async def label(self, mod: Moderator, p: schemas.Label) -> object:
        return await self.service.label(mod, p.question_id, p.version, p.topic)

    async def focus(self, mod: Moderator, p: schemas.Focus) -> object:
        return await self.service.focus(mod, p.question_id, p.version)

    def _mute(self, muted: bool) -> Handler:
        async def handler(mod: Moderator, p: schemas.Mute) -> object:
            return await self.service.mute(mod, p.participant_id, muted)

        return handler

    async def poll_create(self, mod: Moderator, p: PollCreate) -> object:
        return await self._polls().create(
            mod.event_id, poll_spec(p), Audience(p.audience), ResultsVisibility(p.visibility)
        )

    def _poll_state(self, state: PollState) -> Handler:
        async def handler(mod: Moderator, p: schemas.PollRef) -> object:
            return await self._polls().set_state(mod.event_id, p.poll_id, state)

        return handler

    async def dispose(self, mod: Moderator, p: ModeratorDispose) -> object:
        return await self._record().dispose(
            mod.event_id, mod.pseudonym, p.question_id, p.version, p.outcome(), mod.session_id
        )

    async def balance(self, mod: Moderator, p: schemas.Empty) -> object:
        """Re-authorised like every command: a revoked session reads nothing more."""
        await self.service.authenticated(mod)
        return await self._record().balance(mod.event_id)

    async def mode(self, mod: Moderator, p: schemas.Mode) -> object:
        return await self.service.set_mode(mod, ModerationMode(p.mode))

    async def enter(self, mod: Moderator, p: schemas.Enter) -> object:
        """A question for someone without a device, through the same filters and queue."""
        entry = Entry(
            text=p.text,
            channel=Channel(p.channel),
            attendance=Attendance(p.attendance),
            name=p.name,
            anonymous=p.anonymous,
            allow_duplicate=p.allow_duplicate,
        )
        return await self._stewards().enter_for_moderator(mod, entry)

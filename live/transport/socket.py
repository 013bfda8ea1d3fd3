"""Participant Socket.IO handlers: each validates, calls one service and acks one envelope."""

import dataclasses
import functools
import logging
from collections.abc import Awaitable, Callable

import socketio
from pydantic import BaseModel, ValidationError

from live.domain import codes, errors
from live.domain.errors import LiveError
from live.domain.model import Attendance, Sort
from live.fanout import event_room
from live.notify import participant_room
from live.services.polls import PollService
from live.services.qa import Identity, QAService
from live.transport import messages, record_schemas, schemas
from live.transport.fragments import Shared
from live.transport.moderate import cookie_from
from live.transport.proxy import client_address

log = logging.getLogger(__name__)


def device_cookie(code: str) -> str:
    """One device cookie per event, like a device token: one browser, one participant in each."""
    return f"live_device_{code}"

Handler = Callable[[str, BaseModel], Awaitable[object]]


class ParticipantSockets:
    """The default namespace: audience members of one event per socket."""

    def __init__(
        self,
        sio: socketio.AsyncServer,
        qa: Callable[[], QAService],
        polls: Callable[[], PollService],
    ) -> None:
        self.sio = sio
        self._qa = qa
        self._polls = polls
        self.identities: dict[str, Identity] = {}
        self._shared = Shared()
        sio.on("connect", self.connect)
        sio.on("disconnect", self.disconnect)
        sio.on("*", self.unknown)
        self._command("join", schemas.Join, self.join)
        self._command("ask", schemas.Ask, self.ask)
        self._command("withdraw", schemas.QuestionRef, self.withdraw)
        self._command("upvote", schemas.Vote, functools.partial(self.vote, up=True))
        self._command("unvote", schemas.Vote, functools.partial(self.vote, up=False))
        self._command("snapshot", schemas.Snapshot, self.snapshot)
        self._command("answer", schemas.Answer, self.answer)
        self._command("receipt_set", record_schemas.ReceiptAddress, self.receipt_set)
        self._command("receipt_delete", record_schemas.NoPayload, self.receipt_delete)

    @property
    def qa(self) -> QAService:
        return self._qa()

    def _command(self, name: str, model: type[BaseModel], handler: Handler) -> None:
        async def run(sid: str, *args: object) -> dict:
            if len(args) > 1:
                return messages.error(errors.INVALID, "Send one payload object.")
            data = args[0] if args else {}
            return await messages.settle(
                lambda: handler(sid, model.model_validate(data)), name
            )

        self.sio.on(name, run)

    def _identity(self, sid: str) -> Identity:
        identity = self.identities.get(sid)
        if identity is None:
            raise LiveError(errors.FORBIDDEN, "This connection has not joined an event.")
        return identity

    async def connect(self, sid: str, environ: dict, auth: object = None) -> None:
        try:
            credentials = schemas.ConnectAuth.model_validate(auth)
            device = None
            if credentials.token is None:
                device = cookie_from(environ, device_cookie(codes.normalise_code(credentials.event)))
            if device is not None and schemas.valid_device_token(device):
                event, identity = await self.qa.identify_device(credentials.event, device)
            else:
                event, participant = await self.qa.identify(credentials.event, credentials.token)
                identity = Identity(event["id"]) if participant is None else Identity(
                    event["id"], participant["id"], attendance=participant["attendance"])
        except (ValidationError, LiveError) as exc:
            raise messages.refused(exc) from exc
        address = client_address(environ["aiohttp.request"])
        identity = dataclasses.replace(identity, address=address)
        participant_id = identity.participant_id
        self.identities[sid] = identity
        await self.sio.enter_room(sid, event_room(event["id"]))
        if participant_id is not None:
            await self.sio.enter_room(sid, participant_room(participant_id))

    async def unknown(self, name: str, sid: str, *args: object) -> dict:
        """Acknowledge events nobody handles, so a client never waits for a reply that won't come."""
        return messages.error(errors.INVALID, f"There is no event called {name[:40]!r} here.")

    async def disconnect(self, sid: str, reason: object = None) -> None:
        self.identities.pop(sid, None)

    async def join(self, sid: str, payload: schemas.Join) -> dict:
        identity = self._identity(sid)
        participant, token = await self.qa.join(
            identity, Attendance(payload.attendance), payload.name
        )
        if identity.participant_id is None:
            self.identities[sid] = dataclasses.replace(
                identity, participant_id=participant["id"], device=None,
                attendance=participant["attendance"],
            )
            await self.sio.enter_room(sid, participant_room(participant["id"]))
        elif sid in self.identities:  # still connected: it may have disconnected meanwhile
            self.identities[sid] = dataclasses.replace(
                identity, attendance=participant["attendance"])
        me = {k: participant[k] for k in ("id", "name", "attendance")}
        return {"me": me, "token": token} if token else {"me": me}

    async def ask(self, sid: str, payload: schemas.Ask) -> dict:
        return await self.qa.ask(
            self._identity(sid),
            payload.text,
            payload.anonymous,
            payload.op_id,
            payload.allow_duplicate,
        )

    async def withdraw(self, sid: str, payload: schemas.QuestionRef) -> dict:
        return await self.qa.withdraw(self._identity(sid), payload.question_id)

    async def vote(self, sid: str, payload: schemas.Vote, *, up: bool) -> dict:
        return await self.qa.vote(self._identity(sid), payload.question_id, up, payload.op_id)

    async def snapshot(self, sid: str, payload: schemas.Snapshot) -> dict:
        """Questions and polls in one read; their shared parts are encoded once."""
        identity = self._identity(sid)
        snapshot, polls = await self.qa.snapshot_with(
            identity, Sort(payload.sort), self._polls().audience_reading(identity))
        event_id = identity.event_id
        snapshot["questions"] = self._shared(("questions", event_id, payload.sort),
                                             snapshot["questions"])
        snapshot["polls"] = self._shared(("polls", event_id), polls["polls"])
        if snapshot["me"] is not None:
            snapshot["me"]["answers"] = polls["answers"]
        return snapshot

    async def answer(self, sid: str, payload: schemas.Answer) -> dict:
        return await self._polls().answer(
            self._identity(sid), payload.poll_id, payload.value, payload.op_id
        )

    async def receipt_set(self, sid: str, payload: record_schemas.ReceiptAddress) -> dict:
        return await self.qa.set_receipt(self._identity(sid), payload.email)

    async def receipt_delete(self, sid: str, payload: record_schemas.NoPayload) -> dict:
        return await self.qa.delete_receipt(self._identity(sid))

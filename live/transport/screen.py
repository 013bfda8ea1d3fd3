"""The /screen namespace: a read-only big screen, opened by the event's screen token."""

from collections.abc import Callable

import socketio
from pydantic import ValidationError

from live.domain import codes, errors
from live.domain.errors import LiveError
from live.domain.model import Sort
from live.fanout import event_room
from live.notify import SCREEN_NAMESPACE
from live.services.moderation import ModerationService
from live.services.polls import PollService
from live.services.qa import Identity, QAService
from live.services.record import RecordService
from live.services.limits import SignInGuard
from live.transport import messages
from live.transport.proxy import client_address
from live.transport import moderation_schemas as schemas


class ScreenSockets:
    """Screens hear the room's broadcasts and may ask for a snapshot; nothing else."""

    def __init__(
        self,
        sio: socketio.AsyncServer,
        moderation: Callable[[], ModerationService],
        qa: Callable[[], QAService],
        polls: Callable[[], PollService],
        record: Callable[[], RecordService],
        signins: SignInGuard,
    ) -> None:
        self.sio = sio
        self._signins = signins
        self._moderation = moderation
        self._qa = qa
        self._polls = polls
        self._record = record
        self.screens: dict[str, int] = {}
        sio.on("connect", self.connect, namespace=SCREEN_NAMESPACE)
        sio.on("disconnect", self.disconnect, namespace=SCREEN_NAMESPACE)
        sio.on("snapshot", self.snapshot, namespace=SCREEN_NAMESPACE)
        sio.on("balance", self.balance, namespace=SCREEN_NAMESPACE)
        sio.on("*", self.unknown, namespace=SCREEN_NAMESPACE)

    async def connect(self, sid: str, environ: dict, auth: object = None) -> None:
        try:
            credentials = schemas.ScreenConnect.model_validate(auth)
            event = await self._signins.attempt(
                client_address(environ["aiohttp.request"]),
                f"screen:{codes.normalise_code(credentials.event)}",
                lambda: self._moderation().screen(credentials.event, credentials.token),
            )
        except (ValidationError, LiveError) as exc:
            raise messages.refused(exc) from exc
        self.screens[sid] = event["id"]
        await self.sio.enter_room(sid, event_room(event["id"]), namespace=SCREEN_NAMESPACE)

    async def disconnect(self, sid: str, reason: object = None) -> None:
        self.screens.pop(sid, None)

    async def sign_out(self, event_id: int) -> None:
        """Close this worker's screens of an event whose screen token was replaced."""
        for sid in [sid for sid, shown in self.screens.items() if shown == event_id]:
            await self.sio.disconnect(sid, namespace=SCREEN_NAMESPACE)

    def _event_id(self, sid: str) -> int:
        event_id = self.screens.get(sid)
        if event_id is None:
            raise LiveError(errors.FORBIDDEN, "This screen is not connected to an event.")
        return event_id

    async def balance(self, sid: str, *args: object) -> dict:
        """The balance of voices, for the screen to show while a moderator has it on."""
        return await messages.settle(
            lambda: self._record().balance(self._event_id(sid)), "screen balance"
        )

    async def snapshot(self, sid: str, *args: object) -> dict:
        async def run() -> object:
            event_id = self._event_id(sid)
            snapshot = await self._qa().snapshot(Identity(event_id), Sort.TOP)
            snapshot["polls"] = await self._polls().for_screen(event_id)
            return snapshot

        return await messages.settle(run, "screen snapshot")

    async def unknown(self, name: str, sid: str, *args: object) -> dict:
        """A screen is read-only: every other event is refused."""
        return messages.error(errors.FORBIDDEN, "A screen can only read.")

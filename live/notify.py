"""After commit: private news (to an event's moderators, one author's devices) in commit order."""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from live.domain.changes import MODERATORS, SCREENS, News, Notice, Published
from live.fanout import event_room

log = logging.getLogger(__name__)

MODERATOR_NAMESPACE = "/moderate"
SCREEN_NAMESPACE = "/screen"
Emit = Callable[[str, dict, str, str], Awaitable[None]]


def moderator_room(event_id: int) -> str:
    return f"m:{event_id}"


def participant_room(participant_id: int) -> str:
    return f"p:{participant_id}"


def session_room(session_id: int) -> str:
    return f"s:{session_id}"


class Notifier:
    """One ordered queue of private notices; a failed emit is logged, never blocks a writer."""

    def __init__(self, emit: Emit) -> None:
        self._emit = emit
        self._queue: asyncio.Queue[Notice | None] = asyncio.Queue()
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="notify")

    async def stop(self) -> None:
        self._queue.put_nowait(None)
        if self._task is not None:
            await self._task
            self._task = None

    def publish(self, notices: list[Notice]) -> None:
        for notice in notices:
            self._queue.put_nowait(notice)

    async def _run(self) -> None:
        while (notice := await self._queue.get()) is not None:
            if notice.audience == MODERATORS:
                room, namespace = moderator_room(notice.target), MODERATOR_NAMESPACE
            elif notice.audience == SCREENS:
                room, namespace = event_room(notice.target), SCREEN_NAMESPACE
            else:
                room, namespace = participant_room(notice.target), "/"
            try:
                await self._emit(notice.name, notice.data, room, namespace)
            except Exception:
                log.exception("notice to %s failed", room)


def dispatch(
    public: Callable[[list[Published]], None], private: Callable[[list[Notice]], None]
) -> Callable[[list[News]], None]:
    """One publish callable for services: room news to the fan-out, private news to the notifier."""

    def publish(news: list[News]) -> None:
        room = [n for n in news if not isinstance(n, Notice)]
        notices = [n for n in news if isinstance(n, Notice)]
        if room:
            public(room)
        if notices:
            private(notices)

    return publish

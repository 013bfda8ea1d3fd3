"""After commit: order, coalesce and emit the news of each event to its room."""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from live.domain.changes import Change, Published, VoteCount

log = logging.getLogger(__name__)

UPDATE_EVENT = "update"
Emit = Callable[[str, dict, str], Awaitable[None]]


def event_room(event_id: int) -> str:
    return f"e:{event_id}"


@dataclass
class _PendingVotes:
    prev: int
    seq: int = 0
    counts: dict[int, int] = field(default_factory=dict)


class Fanout:
    """Structural changes go out at once; vote counts at most once per flush interval per event.

    Every message carries `seq` and `prev`: a client at a seq of at least `prev` may apply it;
    one further behind has missed something and asks for a snapshot.
    """

    def __init__(self, emit: Emit, flush_interval: float) -> None:
        self._emit = emit
        self._flush_interval = flush_interval
        self._queue: asyncio.Queue[tuple[str, dict] | None] = asyncio.Queue()
        self._pending: dict[int, _PendingVotes] = {}
        self._timers: dict[int, asyncio.TimerHandle] = {}
        self._last_flush: dict[int, float] = {}
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="fanout")

    async def stop(self) -> None:
        for event_id in list(self._pending):
            self._flush(event_id)
        self._queue.put_nowait(None)
        if self._task is not None:
            await self._task
            self._task = None

    def publish(self, changes: list[Published]) -> None:
        """Accept committed changes in commit order; never blocks."""
        for change in changes:
            if isinstance(change, VoteCount):
                self._add_vote(change)
            else:
                self._flush(change.event_id)
                self._send(change.event_id, _structural(change))

    def _add_vote(self, count: VoteCount) -> None:
        pending = self._pending.get(count.event_id)
        if pending is None:
            pending = self._pending[count.event_id] = _PendingVotes(prev=count.seq - 1)
        pending.seq = count.seq
        pending.counts[count.question_id] = count.votes
        if count.event_id not in self._timers:
            due = self._last_flush.get(count.event_id, 0.0) + self._flush_interval
            delay = max(0.0, due - time.monotonic())
            loop = asyncio.get_running_loop()
            self._timers[count.event_id] = loop.call_later(delay, self._flush, count.event_id)

    def _flush(self, event_id: int) -> None:
        timer = self._timers.pop(event_id, None)
        if timer is not None:
            timer.cancel()
        pending = self._pending.pop(event_id, None)
        if pending is None:
            return
        self._last_flush[event_id] = time.monotonic()
        message = {
            "seq": pending.seq,
            "prev": pending.prev,
            "type": "votes",
            "counts": [[qid, votes] for qid, votes in pending.counts.items()],
        }
        self._send(event_id, message)

    def _send(self, event_id: int, message: dict) -> None:
        self._queue.put_nowait((event_room(event_id), message))

    async def _run(self) -> None:
        while (item := await self._queue.get()) is not None:
            room, message = item
            try:
                await self._emit(UPDATE_EVENT, message, room)
            except Exception:
                log.exception("broadcast to %s failed", room)


def _structural(change: Change) -> dict:
    return {"seq": change.seq, "prev": change.seq - 1, "type": change.type, **change.data}

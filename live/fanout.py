"""After commit: order, coalesce and emit the news of each event to its room."""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from live.domain.changes import Change, Published, VoteCount
from live.domain.polls import (
    PollAnswered,
    PollState,
    ResultsVisibility,
    results_visible_to_audience,
)

log = logging.getLogger(__name__)

UPDATE_EVENT = "update"
Emit = Callable[[str, dict, str], Awaitable[None]]
#: Reads the current tallies of polls: [(poll, results)], for the audience's visibility rules.
Tallies = Callable[[list[int]], Awaitable[list[tuple[dict, dict]]]]
#: Sends full poll results to those who may always see them (moderators, the screen).
StaffResults = Callable[[int, list[dict]], None]
#: How many sockets an event's broadcasts reach on this worker.
Audience = Callable[[int], int]


def event_room(event_id: int) -> str:
    return f"e:{event_id}"


@dataclass
class _Pending:
    """A window of coalesced changes of one event, covering seqs prev+1 … seq."""

    prev: int
    seq: int = 0
    counts: dict[int, int] = field(default_factory=dict)
    polls: set[int] = field(default_factory=set)


@dataclass
class _WithTallies:
    """A window message that still needs the polls' tallies, read when its turn comes."""

    event_id: int
    message: dict
    poll_ids: list[int]


class Fanout:
    """Structural changes go out at once; vote counts and poll tallies are coalesced per event.

    Votes go out at most once per flush interval, poll tallies at most once per poll interval,
    both as absolute values. With a delivery rate, a big audience stretches the interval so that
    one event's counts cost at most that many socket writes a second, however fast votes come.
    Every message carries `seq` and `prev`: a client at a seq of at least `prev` may apply it; one
    further behind has missed something and asks for a snapshot. A window never spans another
    worker's seqs, so its absolute counts are the latest for all of it.
    """

    def __init__(
        self,
        emit: Emit,
        flush_interval: float,
        poll_interval: float = 0.2,
        tallies: Tallies | None = None,
        staff_results: StaffResults | None = None,
        audience: Audience | None = None,
        delivery_rate: float = 0.0,
    ) -> None:
        self._emit = emit
        self._flush_interval = flush_interval
        self._audience = audience
        self._delivery_rate = delivery_rate
        self._poll_interval = poll_interval
        self._tallies = tallies
        self._staff_results = staff_results
        self._queue: asyncio.Queue[tuple[str, dict] | _WithTallies | None] = asyncio.Queue()
        self._pending: dict[int, _Pending] = {}
        self._timers: dict[int, tuple[float, asyncio.TimerHandle]] = {}
        self._last_flush: dict[int, float] = {}
        self._last_poll_flush: dict[int, float] = {}
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
                self._window(change.event_id, change.seq).counts[change.question_id] = change.votes
                self._schedule(change.event_id)
            elif isinstance(change, PollAnswered):
                self._window(change.event_id, change.seq).polls.add(change.poll_id)
                self._schedule(change.event_id)
            else:
                self._flush(change.event_id)
                self._send(change.event_id, _structural(change))

    def _window(self, event_id: int, seq: int) -> _Pending:
        pending = self._pending.get(event_id)
        if pending is not None and seq != pending.seq + 1:
            # Another worker committed the seqs in between: a window covers only its own.
            self._flush(event_id)
            pending = None
        if pending is None:
            pending = self._pending[event_id] = _Pending(prev=seq - 1)
        pending.seq = seq
        return pending

    def interval(self, event_id: int) -> float:
        """Seconds between two count broadcasts of the event, for its audience now."""
        if not self._delivery_rate or self._audience is None:
            return self._flush_interval
        return max(self._flush_interval, self._audience(event_id) / self._delivery_rate)

    def _schedule(self, event_id: int) -> None:
        """Flush when both the vote and, if tallies wait, the poll interval allow it."""
        due = self._last_flush.get(event_id, 0.0) + self.interval(event_id)
        if self._pending[event_id].polls:
            due = max(due, self._last_poll_flush.get(event_id, 0.0) + self._poll_interval)
        scheduled = self._timers.get(event_id)
        if scheduled is not None:
            if scheduled[0] >= due:
                return
            scheduled[1].cancel()
        delay = max(0.0, due - time.monotonic())
        handle = asyncio.get_running_loop().call_later(delay, self._flush, event_id)
        self._timers[event_id] = (due, handle)

    def _flush(self, event_id: int) -> None:
        timer = self._timers.pop(event_id, None)
        if timer is not None:
            timer[1].cancel()
        pending = self._pending.pop(event_id, None)
        if pending is None:
            return
        now = time.monotonic()
        self._last_flush[event_id] = now
        message = {
            "seq": pending.seq,
            "prev": pending.prev,
            "type": "votes",
            "counts": [[qid, votes] for qid, votes in pending.counts.items()],
        }
        if pending.polls and self._tallies is not None:
            self._last_poll_flush[event_id] = now
            self._queue.put_nowait(_WithTallies(event_id, message, sorted(pending.polls)))
        else:
            self._send(event_id, message)

    def _send(self, event_id: int, message: dict) -> None:
        self._queue.put_nowait((event_room(event_id), message))

    async def _run(self) -> None:
        while (item := await self._queue.get()) is not None:
            try:
                if isinstance(item, _WithTallies):
                    item = await self._with_tallies(item)
                room, message = item
                await self._emit(UPDATE_EVENT, message, room)
            except Exception:
                log.exception("broadcast failed")

    async def _with_tallies(self, item: _WithTallies) -> tuple[str, dict]:
        """Read the tallies now, after every earlier message has gone, so none goes back in time."""
        assert self._tallies is not None
        found = await self._tallies(item.poll_ids)
        if self._staff_results is not None:
            self._staff_results(item.event_id, [{"id": p["id"], "results": r} for p, r in found])
        visible = [
            {"id": poll["id"], "results": tally}
            for poll, tally in found
            if results_visible_to_audience(
                ResultsVisibility(poll["visibility"]), PollState(poll["state"])
            )
        ]
        message = {**item.message, "polls": visible} if visible else item.message
        return event_room(item.event_id), message


def _structural(change: Change) -> dict:
    return {"seq": change.seq, "prev": change.seq - 1, "type": change.type, **change.data}

"""What every use case shares: commit one unit of work, then publish what it changed."""

from collections.abc import Awaitable, Callable

from live.domain import codes, errors
from live.domain.changes import News
from live.domain.errors import LiveError
from live.domain.model import EventState
from live.store import Database, InThread
from live.store import events as event_store
from live.store import participants as participant_store

Outcome = tuple[dict, list[News]]
Work = Callable[[InThread], Awaitable[Outcome]]
Publish = Callable[[list[News]], None]


class Service:
    """Commits before anything is published, and publishes in commit order (Principle 1)."""

    def __init__(self, db: Database, publish: Publish) -> None:
        self.db = db
        self.publish = publish

    async def event(self, code: str) -> dict:
        """The event with this join code (in any case), or not_found."""
        code = codes.normalise_code(code)
        event = await self.db.glance(lambda conn: event_store.get_event_by_code(conn, code))
        if event is None:
            raise LiveError(errors.NOT_FOUND, f"No event has the code {code}.")
        return event

    async def _write(self, work: Work) -> dict:
        return await self.db.write(work, then=self._published)

    def _published(self, outcome: Outcome) -> dict:
        result, news = outcome
        if news:
            self.publish(news)
        return result


async def open_event(conn: InThread, event_id: int) -> dict:
    """The event, if it still takes changes; a closed event is read-only."""
    event = await event_store.get_event(conn, event_id)
    refuse_unless_open(None if event is None else event["state"])
    return event


def refuse_unless_open(state: str | None) -> None:
    """For a change that read its event's state itself (None: the event is gone)."""
    if state is None:
        raise LiveError(errors.NOT_FOUND, "This event no longer exists.")
    if state != EventState.OPEN:
        raise LiveError(errors.CLOSED, "This event is closed: it can be read but not changed.")


def replay(prior: tuple[str, dict], command: str) -> dict:
    """The first ack of the command an op_id was used for; reusing it for another is refused."""
    used_for, result = prior
    if used_for != command:
        raise LiveError(
            errors.INVALID,
            f"This op_id was already used for '{used_for}'; give every new command its own op_id.",
            {"op_id_used_for": used_for},
        )
    return result


async def once(
    conn: InThread,
    participant_id: int,
    command: str,
    op_id: str | None,
    apply: Callable[[], Awaitable[Outcome]],
) -> Outcome:
    """Apply a command once per op_id: a retry gets the first ack and changes nothing.

    An op_id names one command; reusing it for another would silently answer the wrong one.
    """
    if op_id is not None:
        prior = await participant_store.get_operation(conn, participant_id, op_id)
        if prior is not None:
            return replay(prior, command), []
    result, changes = await apply()
    if op_id is not None:
        await participant_store.put_operation(conn, participant_id, op_id, command, result)
    return result, changes

"""Poll use cases: prepare, open, close, answer, and the tallies the fan-out sends."""

from collections.abc import Callable

from live.domain import errors
from live.domain.changes import Change
from live.domain.errors import LiveError
from live.domain.polls import (
    Audience,
    PollAnswered,
    PollKind,
    PollSpec,
    PollState,
    ResultsVisibility,
    public_poll,
    results,
    results_visible_to_audience,
    spec_of,
    transition,
    validate_answer,
)
from live.services.cache import BySeq
from live.services.qa import Identity, Reading
from live.services.unit import Service, once, open_event
from live.store import Database, InThread
from live.store import events as event_store
from live.store import participants as participant_store
from live.store import polls as poll_store
from moderation import Action, FilterConfig, evaluate

#: Poll answers pass the text filters; flooding and duplicates make no sense for them.
ANSWER_FILTERS = FilterConfig(disabled=frozenset({"flood", "duplicate"}))
TEXT_KINDS = frozenset({PollKind.WORD_CLOUD, PollKind.OPEN_TEXT})


class PollService(Service):
    def __init__(self, db: Database, publish: Callable[[list], None]) -> None:
        super().__init__(db, publish)
        self._audience = BySeq()

    async def create(
        self,
        event_id: int,
        spec: PollSpec,
        audience: Audience = Audience.EVERYONE,
        visibility: ResultsVisibility = ResultsVisibility.LIVE,
    ) -> dict:
        """A new poll starts as a draft: only the organisers, moderators and screen know of it."""
        spec.validate()

        async def work(conn: InThread) -> dict:
            await open_event(conn, event_id)
            poll = await poll_store.insert_poll(
                conn,
                event_id=event_id,
                kind=spec.kind.value,
                question=spec.question,
                options=list(spec.options),
                settings=spec.settings(),
                audience=audience.value,
                visibility=visibility.value,
            )
            return staff_poll(poll, results(spec, []))

        return await self.db.write(work)

    async def set_state(self, event_id: int, poll_id: int, target: PollState) -> dict:
        async def work(conn: InThread) -> tuple[dict, list]:
            await open_event(conn, event_id)
            poll = await _poll_in_event(conn, event_id, poll_id)
            staff, change = await _move(conn, poll, target)
            return staff, [change]

        return await self._write(work)

    async def answer(
        self, identity: Identity, poll_id: int, value: object, op_id: str | None
    ) -> dict:
        """Store this participant's one answer, replacing an earlier one while the poll is open."""
        participant_id = identity.require_participant()

        async def work(conn: InThread) -> tuple[dict, list]:
            async def apply() -> tuple[dict, list]:
                await open_event(conn, identity.event_id)
                poll = await _poll_in_event(conn, identity.event_id, poll_id)
                state = PollState(poll["state"])
                if state is PollState.DRAFT:
                    raise LiveError(errors.NOT_FOUND, f"No poll {poll_id} is open in this event.")
                if state is PollState.CLOSED:
                    raise LiveError(errors.CLOSED, "This poll is closed.")
                participant = await participant_store.get_participant(conn, participant_id)
                if (
                    poll["audience"] == Audience.IN_ROOM
                    and participant["attendance"] != "in_room"
                ):
                    raise LiveError(errors.FORBIDDEN, "This poll is for the people in the room.")
                spec = spec_of(poll)
                canonical = validate_answer(spec, value)
                counted, reasons = _screen(spec.kind, canonical)
                await poll_store.put_response(
                    conn,
                    poll_id=poll_id,
                    participant_id=participant_id,
                    attendance=participant["attendance"],
                    answer=canonical,
                    counted=counted,
                    reasons=reasons,
                )
                seq = await event_store.next_seq(conn, identity.event_id)
                result = {"poll_id": poll_id, "value": canonical, "counted": counted}
                if reasons:
                    result["reasons"] = reasons
                return result, [PollAnswered(identity.event_id, seq, poll_id)]

            return await once(conn, participant_id, "answer", op_id, apply)

        return await self._write(work)

    async def tallies(self, poll_ids: list[int]) -> list[tuple[dict, dict]]:
        """Current (poll, results) of these polls, read in one transaction for the fan-out."""

        async def work(conn: InThread) -> list[tuple[dict, dict]]:
            found = []
            for poll_id in poll_ids:
                poll = await poll_store.get_poll(conn, poll_id)
                if poll is not None:
                    rows = await poll_store.counted_responses(conn, poll_id)
                    found.append((poll, results(spec_of(poll), rows)))
            return found

        return await self.db.read(work)

    async def for_audience(self, identity: Identity) -> dict:
        """Open and closed polls with results where visible, and this participant's answers."""
        return await self.db.glance(self.audience_reading(identity))

    def audience_reading(self, identity: Identity) -> Reading[dict]:
        """`for_audience` as a reading, to join another in one read; the polls are built once
        per seq (every answer advances it) and shared by every snapshot."""

        async def work(conn: InThread) -> dict:
            event = await event_store.get_event(conn, identity.event_id)
            polls = self._audience.get(identity.event_id, event["seq"])
            if polls is None:
                polls = []
                for poll in await poll_store.polls_of_event(conn, identity.event_id, False):
                    rows = await poll_store.counted_responses(conn, poll["id"])
                    polls.append(audience_poll(poll, results(spec_of(poll), rows)))
                self._audience.put(identity.event_id, event["seq"], polls)
            answers = {}
            if identity.participant_id is not None:
                answers = await poll_store.answers_of(
                    conn, identity.participant_id, identity.event_id
                )
            return {"polls": polls, "answers": {str(k): v for k, v in answers.items()}}

        return work

    async def for_staff(self, event_id: int, include_drafts: bool = True) -> list[dict]:
        """Every poll of the event, with results whatever their visibility."""

        async def work(conn: InThread) -> list[dict]:
            polls = []
            for poll in await poll_store.polls_of_event(conn, event_id, include_drafts):
                rows = await poll_store.counted_responses(conn, poll["id"])
                polls.append(staff_poll(poll, results(spec_of(poll), rows)))
            return polls

        return await self.db.read(work)


    async def for_screen(self, event_id: int) -> list[dict]:
        """The screen may show every result, but knows nothing of drafts until they open."""
        return await self.for_staff(event_id, include_drafts=False)


def audience_poll(poll: dict, tally: dict) -> dict:
    visible = results_visible_to_audience(
        ResultsVisibility(poll["visibility"]), PollState(poll["state"])
    )
    return public_poll(poll, tally if visible else None)


def staff_poll(poll: dict, tally: dict) -> dict:
    return public_poll(poll, tally)


def _screen(kind: PollKind, answer: object) -> tuple[bool, list[str]]:
    """Run free-text answers through the moderation filters; held ones are stored, not counted."""
    if kind not in TEXT_KINDS:
        return True, []
    texts = answer if isinstance(answer, list) else [answer]
    reasons: list[str] = []
    for text in texts:
        verdict = evaluate(text, ANSWER_FILTERS)
        if verdict.action is not Action.PUBLISH:
            reasons.extend(r.value for r in verdict.reasons if r.value not in reasons)
    return not reasons, reasons


async def _move(conn: InThread, poll: dict, target: PollState) -> tuple[dict, Change]:
    """Move a poll to its next state: the staff's view of it, and the room's news."""
    transition(PollState(poll["state"]), target)
    await poll_store.set_state(conn, poll["id"], target.value)
    poll = await poll_store.get_poll(conn, poll["id"])
    tally = results(spec_of(poll), await poll_store.counted_responses(conn, poll["id"]))
    seq = await event_store.next_seq(conn, poll["event_id"])
    change = Change(poll["event_id"], seq, "poll", {"poll": audience_poll(poll, tally)})
    return staff_poll(poll, tally), change


async def close_open_polls(conn: InThread, event_id: int) -> list[Change]:
    """When the event closes its polls close with it, so results kept for after the close show."""
    return [
        (await _move(conn, poll, PollState.CLOSED))[1]
        for poll in await poll_store.polls_of_event(conn, event_id, include_drafts=False)
        if poll["state"] == PollState.OPEN
    ]


async def _poll_in_event(conn: InThread, event_id: int, poll_id: int) -> dict:
    poll = await poll_store.get_poll(conn, poll_id)
    if poll is None or poll["event_id"] != event_id:
        raise LiveError(errors.NOT_FOUND, f"No poll {poll_id} in this event.")
    return poll

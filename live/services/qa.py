"""The Q&A use cases: join, ask, withdraw, vote and the snapshot a client starts from."""

import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import moderation
from moderation import Reason

from live.domain import codes, errors, integrity, review, tokens
from live.domain.changes import News, VoteCount
from live.domain.errors import LiveError
from live.domain.model import VISIBLE_STATUSES, Attendance, Channel, ModerationMode
from live.domain.model import QuestionStatus, Sort, sort_questions
from live.domain.schedule import asking_closed, not_started
from live.domain.views import is_visible, own_question, public_event, public_question, stage
from live.services.cache import BySeq
from live.services.news import question_news
from live.services.unit import Outcome, Service, once, open_event, refuse_unless_open, replay
from live.settings import Settings
from live.store import Database, InThread
from live.store import events as event_store
from live.store import integrity as integrity_store
from live.store import moderation as moderation_store
from live.store import participants as participant_store
from live.store import questions as question_store
from live.store import record as record_store

log = logging.getLogger(__name__)

T = TypeVar("T")
#: A read's work: run inside one read of the store, it may await only the database.
Reading = Callable[[InThread], Awaitable[T]]

FLOOD_WINDOW = 60.0
FILTER_MODERATOR = "automatic filter"


@dataclass(frozen=True)
class Identity:
    """Who a socket speaks for: always an event, a participant once they have joined."""

    event_id: int
    participant_id: int | None = None
    address: str | None = None
    #: The browser's device cookie before it has joined: the token its join will register.
    device: str | None = None
    #: Where the participant said they are (in_room, remote); None before they have joined.
    attendance: str | None = None

    def require_participant(self) -> int:
        if self.participant_id is None:
            raise LiveError(errors.FORBIDDEN, "Join the event first.")
        return self.participant_id


class QAService(Service):
    def __init__(
        self, db: Database, settings: Settings, publish: Callable[[list[News]], None]
    ) -> None:
        super().__init__(db, publish)
        self.settings = settings
        self._questions = BySeq()
        #: The address salt once it is known to be stored: it never changes, so each join
        #: need not read it again.
        self._address_salt: str | None = None

    async def identify(self, code: str, token: str | None) -> tuple[dict, dict | None]:
        """Resolve a connecting socket's event and, with a device token, its participant."""
        code = codes.normalise_code(code)

        async def work(conn: InThread) -> tuple[dict, dict | None]:
            event = await event_store.get_event_by_code(conn, code)
            if event is None:
                raise LiveError(errors.NOT_FOUND, f"No event has the code {code}.")
            if token is None:
                return event, None
            participant = await participant_store.participant_by_token(
                conn, event["id"], tokens.digest(token)
            )
            if participant is None:
                raise LiveError(errors.FORBIDDEN, "This device token is not known for the event.")
            return event, participant

        return await self.db.glance(work)

    async def identify_device(self, code: str, device: str) -> tuple[dict, Identity]:
        """A browser's device cookie names its participant once it has joined; before, it is
        the token its join will register, so the page's forms and its socket are one device."""
        try:
            event, participant = await self.identify(code, device)
        except LiveError as exc:
            if exc.code != errors.FORBIDDEN:
                raise
            event, _ = await self.identify(code, None)
            return event, Identity(event["id"], device=device)
        return event, Identity(event["id"], participant["id"], attendance=participant["attendance"])

    async def join(
        self, identity: Identity, attendance: Attendance, name: str | None
    ) -> tuple[dict, str | None]:
        """Create the participant on first join, else update; a new device token is returned once
        (a browser's device cookie is its token already, never handed to its scripts)."""
        token = None
        if identity.participant_id is None:
            token = identity.device or tokens.new_token()

        async def work(conn: InThread) -> Outcome:
            await open_event(conn, identity.event_id)
            known = identity.participant_id
            if known is None and identity.device is not None:  # joined meanwhile, in another tab
                found = await participant_store.participant_by_token(
                    conn, identity.event_id, tokens.digest(identity.device)
                )
                known = None if found is None else found["id"]
            if known is None:
                address_hash = await self._admit_newcomer(conn, identity)
                participant = await participant_store.insert_participant(
                    conn,
                    event_id=identity.event_id,
                    token_hash=tokens.digest(token),
                    name=name,
                    attendance=attendance.value,
                    address_hash=address_hash,
                )
            else:
                await participant_store.update_participant(
                    conn, known, name=name, attendance=attendance.value
                )
                participant = await participant_store.get_participant(conn, known)
            return participant, []

        participant = await self._write(work)
        return participant, None if identity.device else token

    async def _admit_newcomer(self, conn: InThread, identity: Identity) -> str | None:
        """Refuse an address that added join_limit participants to the event within join_window;
        return the address's salted hash to store with the new participant."""
        if identity.address is None:
            return None
        salt = self._address_salt
        if salt is None:
            salt, stored = await integrity_store.address_salt(conn)
            if stored:
                self._address_salt = salt
        address_hash = integrity.address_hash(salt, identity.address)
        limit, window = self.settings.join_limit, self.settings.join_window
        now = time.time()
        count, first = await integrity_store.recent_joins(
            conn, identity.event_id, address_hash, now - window
        )
        if count >= limit:
            wait = max(1, math.ceil(first + window - now))
            raise LiveError(
                errors.RATE_LIMITED,
                f"Very many people joined from this network just now; try again in {wait} seconds.",
                {"retry_after": wait},
            )
        if count + 1 == limit:
            log.warning(
                "address %s reached the join limit of event %d",
                address_hash[: integrity.SHORT_HASH],
                identity.event_id,
            )
        return address_hash

    async def ask(
        self,
        identity: Identity,
        text: str,
        anonymous: bool,
        op_id: str | None,
        allow_duplicate: bool = False,
    ) -> dict:
        """A participant's own question, through admit once per op_id."""
        participant_id = identity.require_participant()

        async def work(conn: InThread) -> Outcome:
            async def apply() -> Outcome:
                row, news = await admit(
                    conn, self.settings, identity.event_id, participant_id, text,
                    anonymous=anonymous, allow_duplicate=allow_duplicate,
                )
                return {"question": public_question(row), "mine": own_question(row)}, news

            return await once(conn, participant_id, "ask", op_id, apply)

        return await self._write(work)

    async def withdraw(self, identity: Identity, question_id: int) -> dict:
        participant_id = identity.require_participant()

        async def work(conn: InThread) -> Outcome:
            await open_event(conn, identity.event_id)
            row = await _question_in_event(conn, identity.event_id, question_id)
            if row["participant_id"] != participant_id:
                raise LiveError(errors.FORBIDDEN, "You can only withdraw your own questions.")
            if row["status"] == QuestionStatus.WITHDRAWN:
                return {"question": own_question(row)}, []
            if row["status"] == QuestionStatus.MERGED:
                raise LiveError(errors.INVALID, "This question was merged into another one.")
            after = await question_store.update_question(
                conn, question_id, {"status": QuestionStatus.WITHDRAWN.value}
            )
            return {"question": own_question(after)}, await question_news(conn, row, after)

        return await self._write(work)

    async def vote(
        self, identity: Identity, question_id: int, up: bool, op_id: str | None
    ) -> dict:
        """Set or clear this participant's vote, once per op_id; the count is recomputed from
        the rows."""
        participant_id = identity.require_participant()
        command = "upvote" if up else "unvote"

        def check(row) -> None:
            refuse_unless_open(None if row is None else row["state"])
            if row["event_id"] is None:
                raise LiveError(errors.NOT_FOUND, f"No question {question_id} in this event.")
            if not is_visible(row):
                raise LiveError(errors.NOT_FOUND, "This question is not open for votes.")
            if row["participant_id"] == participant_id:
                raise LiveError(errors.FORBIDDEN, "You cannot vote on your own question.")

        def outcome(done: question_store.Voted) -> Outcome:
            if done.prior is not None:
                return replay(done.prior, command), []
            if not done.changed:
                return done.ack(question_id, up), []
            return done.ack(question_id, up), [
                VoteCount(identity.event_id, done.seq, question_id, done.votes)
            ]

        work = question_store.vote(
            self.db.dialect, event_id=identity.event_id, question_id=question_id,
            participant_id=participant_id, up=up, command=command, op_id=op_id, check=check,
            outcome=outcome,
        )
        return await self._write(work)

    async def set_receipt(self, identity: Identity, email: str) -> dict:
        """Keep the author's address apart from everything exported, to email written responses."""
        participant_id = identity.require_participant()
        if not self.settings.smtp_host:
            raise LiveError(errors.INVALID, "This server does not send email.")

        async def work(conn: InThread) -> Outcome:
            await open_event(conn, identity.event_id)
            await record_store.set_receipt_address(conn, participant_id, email)
            return {"email": email}, []

        return await self._write(work)

    async def delete_receipt(self, identity: Identity) -> dict:
        """Forget the author's address at once; a right kept even with email off or the event closed."""
        participant_id = identity.require_participant()

        async def work(conn: InThread) -> Outcome:
            return {"deleted": await record_store.delete_receipt_address(conn, participant_id)}, []

        return await self._write(work)

    async def snapshot(self, identity: Identity, sort: Sort = Sort.TOP) -> dict:
        """The whole visible state of the event at one seq, plus what this participant owns."""
        return await self.db.glance(self.snapshot_reading(identity, sort))

    async def snapshot_with(
        self, identity: Identity, sort: Sort, also: Reading[T]
    ) -> tuple[dict, T]:
        """The snapshot and another reading of the same state in one read: a participant's
        whole view (questions and polls) costs one read, not two."""
        snapshot = self.snapshot_reading(identity, sort)

        async def work(conn: InThread) -> tuple[dict, T]:
            return await snapshot(conn), await also(conn)

        return await self.db.glance(work)

    def snapshot_reading(self, identity: Identity, sort: Sort) -> Reading[dict]:
        """The snapshot as a reading; the visible questions are built once per seq and sort and
        shared by every snapshot."""

        async def work(conn: InThread) -> dict:
            event = await event_store.get_event(conn, identity.event_id)
            key = (identity.event_id, sort.value)
            questions = self._questions.get(key, event["seq"])
            if questions is None:
                rows = await question_store.questions_with_status(
                    conn, identity.event_id, VISIBLE_STATUSES
                )
                questions = sort_questions([public_question(r) for r in rows], sort)
                self._questions.put(key, event["seq"], questions)
            me = None
            if identity.participant_id is not None:
                participant = await participant_store.get_participant(
                    conn, identity.participant_id
                )
                me = {
                    "id": participant["id"],
                    "name": participant["name"],
                    "attendance": participant["attendance"],
                    "votes": await question_store.votes_of(
                        conn, identity.participant_id, identity.event_id
                    ),
                    "questions": [
                        own_question(q)
                        for q in await question_store.questions_of(conn, identity.participant_id)
                    ],
                    "receipt_email": await record_store.receipt_address(
                        conn, identity.participant_id
                    ),
                }
            return {
                "seq": event["seq"],
                "event": public_event(event),
                "stage": stage(event),
                "sort": sort.value,
                "receipts": bool(self.settings.smtp_host),
                "questions": questions,
                "me": me,
            }

        return work


async def _question_in_event(conn: InThread, event_id: int, question_id: int) -> dict:
    """The question, if it belongs to this event."""
    row = await question_store.get_question(conn, question_id)
    if row is None or row["event_id"] != event_id:
        raise LiveError(errors.NOT_FOUND, f"No question {question_id} in this event.")
    return row


async def admit(
    conn: InThread,
    settings: Settings,
    event_id: int,
    participant_id: int,
    text: str,
    *,
    anonymous: bool,
    allow_duplicate: bool,
    channel: Channel = Channel.DEVICE,
) -> tuple[dict, list[News]]:
    """Run the event's filters, then publish, hold for review or reject the new question: one
    path for every question, asked on a device or entered for someone without one.

    A near-duplicate is refused with the existing question unless the author insists.
    """
    limit, window = settings.ask_limit, settings.ask_window
    event = await open_event(conn, event_id)
    now = time.time()
    if channel == Channel.DEVICE and asking_closed(event, now):
        raise LiveError(
            errors.NOT_STARTED,
            "Questions open when the event starts; this one does not take them in advance.",
        )
    recent = await question_store.count_recent(conn, participant_id, now - window)
    if recent >= limit:
        raise LiveError(
            errors.RATE_LIMITED,
            f"You can ask {limit} questions every {window:g} seconds; please wait a moment.",
        )
    participant = await participant_store.get_participant(conn, participant_id)
    existing = await question_store.visible_texts(conn, event_id, VISIBLE_STATUSES)
    last_minute = await question_store.count_recent(conn, participant_id, now - FLOOD_WINDOW)
    verdict = moderation.evaluate(
        text,
        review.filter_config(event),
        moderation.Context(existing=existing, recent_count=last_minute),
    )
    if Reason.FLOOD in verdict.reasons:
        raise LiveError(errors.RATE_LIMITED, "You are asking very fast; please wait a minute.")
    if verdict.duplicate_of is not None and not allow_duplicate:
        similar = await question_store.get_question(conn, verdict.duplicate_of)
        raise LiveError(
            errors.CONFLICT,
            "A very similar question has already been asked: upvote it instead, "
            "or send yours anyway.",
            {"duplicate_of": public_question(similar)},
        )
    admission = review.admit(
        ModerationMode(event["moderation_mode"]), verdict, bool(participant["muted"])
    )
    row = await question_store.insert_question(
        conn,
        event_id=event_id,
        participant_id=participant_id,
        text=text,
        author_name=None if anonymous else participant["name"],
        attendance=participant["attendance"],
        status=admission.status.value,
        seq=event["seq"],
        flags=list(admission.flags),
        reason=admission.reason,
        duplicate_of=verdict.duplicate_of,
        channel=channel.value,
        asked_before_start=not_started(event, now),
    )
    if admission.reason or set(admission.flags) - {review.PRE_MODERATION_FLAG}:
        await moderation_store.append_log(
            conn,
            event_id=event_id,
            moderator=FILTER_MODERATOR,
            action="reject" if admission.reason else "hold",
            question_id=row["id"],
            participant_id=participant_id,
            reason=admission.reason,
            details={"flags": list(admission.flags)},
        )
    return row, await question_news(conn, None, row)

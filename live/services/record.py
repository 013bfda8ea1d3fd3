"""After the stream: dispositions, the public list of questions, series, carry-over and balance."""

import time
from collections.abc import Callable

from live.domain import errors
from live.domain.changes import News, to_moderators
from live.domain.dispositions import Disposition, Outcome, settle
from live.domain.errors import LiveError
from live.domain.model import QuestionStatus
from live.domain.views import balance, log_entry, moderator_question, public_event, record_question
from live.services.news import question_news
from live.services.unit import Outcome as Result
from live.services.unit import Service, open_event
from live.store import Database, InThread
from live.store import events as event_store
from live.store import moderation as moderation_store
from live.store import questions as question_store
from live.store import record as record_store

ORGANISER = "organiser"
#: Called after commit with the question and the addresses to tell of its written response.
Mailer = Callable[[dict, dict, list[str]], None]


class RecordService(Service):
    def __init__(
        self, db: Database, publish: Callable[[list[News]], None], mail: Mailer | None = None
    ) -> None:
        super().__init__(db, publish)
        self.mail = mail


    async def dispose(
        self,
        event_id: int,
        actor: str,
        question_id: int,
        version: int | None,
        outcome: Outcome,
        session_id: int | None = None,
    ) -> dict:
        """Set how a published question ended; recorded in the moderation log, told to its author.

        A moderator (session_id) is authorised again inside the write; organisers were at the door.
        Closed events still take dispositions: this is the work after the stream.
        """
        mail: list = []

        async def work(conn: InThread) -> Result:
            if session_id is not None and await moderation_store.live_session(conn, session_id) is None:
                raise LiveError(errors.FORBIDDEN, "This moderator session has been revoked.")
            mail.clear()
            question, news = await self._settle(
                conn, event_id, actor, question_id, version, outcome, mail
            )
            return {"question": question}, news

        result = await self._write(work)
        self._tell(mail)
        return result

    async def dispose_many(
        self, event_id: int, actor: str, question_ids: list[int], outcome: Outcome
    ) -> dict:
        """One outcome for several questions in one write: all of them settle, or none does.

        Each is logged and told to its author as if it had been given alone.
        """
        mail: list = []

        async def work(conn: InThread) -> Result:
            mail.clear()
            settled, news = [], []
            for question_id in question_ids:
                question, told = await self._settle(
                    conn, event_id, actor, question_id, None, outcome, mail
                )
                settled.append(question)
                news += told
            return {"questions": settled}, news

        result = await self._write(work)
        self._tell(mail)
        return result

    async def _settle(
        self, conn: InThread, event_id: int, actor: str, question_id: int,
        version: int | None, outcome: Outcome, mail: list,
    ) -> tuple[dict, list[News]]:
        row = await question_store.get_question(conn, question_id)
        if row is None or row["event_id"] != event_id:
            raise LiveError(errors.NOT_FOUND, f"No question {question_id} in this event.")
        if version is not None and row["version"] != version:
            raise LiveError(
                errors.CONFLICT,
                "Someone changed this question a moment ago; here is how it is now.",
                {"question": moderator_question(row)},
            )
        status = settle(QuestionStatus(row["status"]), Disposition(row["disposition"]), outcome)
        fields = {**outcome.fields(), "status": status.value, "disposed_at": time.time()}
        after = await question_store.update_question(conn, question_id, fields)
        news = await question_news(conn, row, after)
        entry = await moderation_store.append_log(
            conn,
            event_id=event_id,
            moderator=actor,
            action="dispose",
            question_id=question_id,
            participant_id=row["participant_id"],
            reason=outcome.disposition.value,
            details={k: v for k, v in outcome.fields().items() if v is not None},
        )
        news.append(to_moderators(event_id, "log", {"entry": log_entry(entry)}))
        question = moderator_question(after)
        if outcome.disposition is Disposition.ANSWERED_IN_WRITING:
            event = await event_store.get_event(conn, event_id)
            addresses = await record_store.receipt_addresses_for(conn, question_id)
            mail.append((event, question, addresses))
        return question, news

    def _tell(self, mail: list) -> None:
        """After commit: each written response to the addresses its author left."""
        if self.mail is None:
            return
        for event, question, addresses in mail:
            if addresses:
                self.mail(event, question, addresses)

    async def questions(self, code: str) -> dict:
        """The public list of published questions and how each ended; online after the close."""
        event = await self.event(code)
        rows = await self.db.read(lambda conn: record_store.published_questions(conn, event["id"]))
        return {
            "event": {**public_event(event), "series": event["series"]},
            "questions": [
                {**record_question(r), "carried_to": r["carried_to"]} for r in rows
            ],
        }

    async def balance(self, event_id: int) -> dict:
        """How many questions, votes and poll answers came from the room, the stream and each channel."""

        async def work(conn: InThread) -> dict:
            return balance(
                await record_store.balance(conn, event_id),
                await record_store.channel_balance(conn, event_id),
            )

        return await self.db.read(work)

    async def report(self, event_id: int) -> dict:
        """The counts for the board's report: the balance of voices and who joined from where."""

        async def work(conn: InThread) -> dict:
            return {
                "balance": balance(
                    await record_store.balance(conn, event_id),
                    await record_store.channel_balance(conn, event_id),
                ),
                "participants": await record_store.participant_counts(conn, event_id),
                "asked_before_start": await record_store.count_asked_before_start(conn, event_id),
            }

        return await self.db.read(work)

    async def set_series(self, code: str, series: str | None) -> dict:
        """File an event in a series; a closed event may be filed too, to carry its questions."""
        event = await self.event(code)

        async def work(conn: InThread) -> Result:
            await record_store.set_series(conn, event["id"], series)
            return {**public_event(event), "series": series}, []

        return await self._write(work)

    async def series(self, series: str) -> list[dict]:
        events = await self.db.read(lambda conn: record_store.events_of_series(conn, series))
        if not events:
            raise LiveError(errors.NOT_FOUND, f"No event belongs to the series {series!r}.")
        return events

    async def carry(self, from_code: str, to_code: str, actor: str = ORGANISER) -> dict:
        """Copy the earlier event's unanswered published questions into the next one, once each.

        Each copy keeps its author (their device sees it among their questions), the name they
        showed, and the votes it had as carried_votes; its own votes start from zero, so a
        series never counts one person's vote twice. The earlier event is only read, so it may be
        closed; the next one is written, so it must be open.
        """
        source, target = await self.event(from_code), await self.event(to_code)
        if source["id"] == target["id"] or not source["series"] or source["series"] != target["series"]:
            raise LiveError(errors.INVALID, "Questions can be carried only between events of one series.")

        async def work(conn: InThread) -> Result:
            await open_event(conn, target["id"])
            news: list[News] = []
            carried = []
            for question in await record_store.carried_questions(conn, source["id"], target["id"]):
                seq = await event_store.current_seq(conn, target["id"])
                new_id = await record_store.insert_carried(
                    conn, question, target["id"], question["participant_id"], seq
                )
                row = await question_store.get_question(conn, new_id)
                news += await question_news(conn, None, row)
                carried.append({"from": question["id"], "to": new_id})
            await moderation_store.append_log(
                conn,
                event_id=target["id"],
                moderator=actor,
                action="carry",
                details={"from_event": source["code"], "questions": len(carried)},
            )
            return {"carried": carried}, news

        return await self._write(work)


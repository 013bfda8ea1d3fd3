"""Moderator use cases: sign-in, every decision on a question, and the public record of them."""

import asyncio
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

from live.domain import codes, dispositions, errors, review, tokens
from live.domain.changes import News, to_moderators
from live.domain.dispositions import Disposition
from live.domain.errors import LiveError
from live.domain.model import PUBLIC_TEXT_REASONS, VISIBLE_STATUSES, ModerationMode
from live.domain.model import QuestionStatus, RejectReason, ScreenMode
from live.domain.views import balance, log_entry, moderator_participant, moderator_question
from live.domain.views import public_event, stage
from live.services import integrity
from live.services.cache import Recent
from live.services.news import participant_news, question_news, set_focus, stage_news
from live.services.unit import Outcome, Service, open_event
from live.store import Database, InThread
from live.store import events as event_store
from live.store import moderation as moderation_store
from live.store import participants as participant_store
from live.store import questions as question_store
from live.store import record as record_store

LOG_IN_SNAPSHOT = 100
#: Seconds the public record's count of votes from flagged addresses stands before it is counted
#: again: counting reads every vote of the event, and anyone may ask for the record.
FLAGGED_REFRESH = 10.0


@dataclass(frozen=True)
class Moderator:
    """Who a moderator socket speaks for: one session of one event, under a pseudonym."""

    event_id: int
    session_id: int
    pseudonym: str


class ModerationService(Service):
    def __init__(self, db: Database, publish: Callable[[list[News]], None]) -> None:
        super().__init__(db, publish)
        self._flagged_votes = Recent()


    async def login(self, code: str, secret: str, pseudonym: str) -> tuple[dict, str]:
        """Exchange the event's moderator secret for a new session token (stored hashed)."""
        event = await self.event(code)
        stored = await self.db.read(
            lambda conn: event_store.moderator_secret_hash(conn, event["id"])
        )
        if not await asyncio.to_thread(tokens.slow_matches, secret, stored):
            raise LiveError(errors.FORBIDDEN, "This moderator secret is not right for the event.")
        rehashed = (
            await asyncio.to_thread(tokens.slow_digest, secret)
            if tokens.needs_rehash(stored)
            else None
        )
        token = tokens.new_token()

        async def work(conn: InThread) -> Outcome:
            if rehashed is not None:
                await event_store.set_moderator_secret_hash(conn, event["id"], rehashed)
            session = await moderation_store.insert_session(
                conn, event["id"], tokens.digest(token), pseudonym
            )
            entry = await moderation_store.append_log(
                conn, event_id=event["id"], moderator=pseudonym, action="sign_in"
            )
            return session, [to_moderators(event["id"], "log", {"entry": log_entry(entry)})]

        await self._write(work)
        return event, token

    async def authenticate(self, code: str, token: str | None) -> Moderator:
        """Resolve a session token presented by a connecting socket; revoked ones are refused."""
        event = await self.event(code)
        if not token:
            raise LiveError(errors.FORBIDDEN, "Sign in as a moderator first.")
        session = await self.db.read(
            lambda conn: moderation_store.live_session_by_token(
                conn, event["id"], tokens.digest(token)
            )
        )
        if session is None:
            raise LiveError(errors.FORBIDDEN, "This moderator session is not valid (any more).")
        return Moderator(event["id"], session["id"], session["pseudonym"])

    async def screen(self, code: str, token: str) -> dict:
        """The event a big-screen token opens, read-only."""
        event = await self.event(code)
        stored = await self.db.read(lambda conn: event_store.screen_token_hash(conn, event["id"]))
        if not tokens.matches(token, stored):
            raise LiveError(errors.FORBIDDEN, "This screen token is not right for the event.")
        return event

    async def authenticated(self, mod: Moderator) -> None:
        """Refuse a moderator whose session was revoked since their socket connected."""
        await self.db.read(lambda conn: _session(conn, mod))

    async def revoked(self, session_ids: list[int]) -> set[int]:
        return await self.db.read(lambda conn: moderation_store.revoked_among(conn, session_ids))

    async def sessions(self, code: str) -> list[dict]:
        event = await self.event(code)
        return await self.db.read(lambda conn: moderation_store.sessions_of(conn, event["id"]))

    async def revoke(self, code: str, session_id: int) -> dict:
        """End a moderator session: its sockets are closed and its actions refused from now on."""
        event = await self.event(code)

        async def work(conn: InThread) -> Outcome:
            if not await moderation_store.revoke_session(conn, event["id"], session_id):
                raise LiveError(errors.NOT_FOUND, f"No active moderator session {session_id}.")
            sessions = await moderation_store.sessions_of(conn, event["id"])
            revoked = next(s for s in sessions if s["id"] == session_id)
            entry = await moderation_store.append_log(
                conn,
                event_id=event["id"],
                moderator="organiser",
                action="revoke",
                details={"session": session_id, "pseudonym": revoked["pseudonym"]},
            )
            return revoked, [to_moderators(event["id"], "log", {"entry": log_entry(entry)})]

        return await self._write(work)

    async def snapshot(self, mod: Moderator) -> dict:
        """Everything a moderator console starts from: every question, askers, the latest log."""

        async def work(conn: InThread) -> dict:
            await _session(conn, mod)
            event = await event_store.get_event(conn, mod.event_id)
            rows = await question_store.questions_of_event(conn, mod.event_id)
            people = await participant_store.with_history(conn, mod.event_id)
            log = await moderation_store.log_of(conn, mod.event_id, LOG_IN_SNAPSHOT)
            voices = await record_store.balance(conn, mod.event_id)
            channels = await record_store.channel_balance(conn, mod.event_id)
            return {
                "event": public_event(event),
                "stage": stage(event),
                "me": {"pseudonym": mod.pseudonym, "session": mod.session_id},
                "questions": [
                    moderator_question(r) for r in rows if r["status"] != QuestionStatus.WITHDRAWN
                ],
                "participants": [moderator_participant(p) for p in people],
                "log": [log_entry(e) for e in log],
                "balance": balance(voices, channels),
            }

        return await self.db.read(work)

    async def integrity(self, mod: Moderator) -> dict:
        """Addresses with unusually many participants or vote bursts, and what they voted for."""

        async def work(conn: InThread) -> dict:
            await _session(conn, mod)
            flagged = await integrity.flagged_addresses(conn, mod.event_id)
            return {"flagged": flagged, "thresholds": integrity.thresholds()}

        return await self.db.read(work)

    async def decide(
        self,
        mod: Moderator,
        action: str,
        question_id: int,
        version: int,
        reason: RejectReason | None = None,
        note: str | None = None,
    ) -> dict:
        """Approve, reject (with a reason), mark answered or archive one question."""

        async def work(conn: InThread) -> Outcome:
            row = await _current(conn, mod, question_id, version)
            status = review.transition(action, QuestionStatus(row["status"]))
            fields: dict = {"status": status.value}
            if action == "reject":
                fields |= {"reason": reason.value, "note": note}
            elif row["reason"] is not None:
                fields |= {"reason": None, "note": None}
            if action in {"approve", "reject"} and row["decided_at"] is None:
                fields["decided_at"] = time.time()
            fields |= dispositions.follow(status, Disposition(row["disposition"]))
            after = await question_store.update_question(conn, question_id, fields)
            news = await question_news(conn, row, after)
            news += await _log(
                conn, mod, action, row, reason=reason and reason.value, note=note
            )
            return _done(after), news

        return await self._write(work)

    async def edit(self, mod: Moderator, question_id: int, version: int, text: str) -> dict:
        """Change a question's wording; the author's original stays on record."""

        async def work(conn: InThread) -> Outcome:
            row = await _current(conn, mod, question_id, version)
            if row["status"] not in review.EDITABLE:
                status = errors.with_article(row["status"])
                raise LiveError(errors.INVALID, f"{status} question cannot be edited.")
            original = row["original_text"] or row["text"]
            after = await question_store.update_question(
                conn, question_id, {"text": text, "original_text": original}
            )
            news = await question_news(conn, row, after)
            news += await _log(conn, mod, "edit", row, before_text=row["text"], after_text=text)
            return _done(after), news

        return await self._write(work)

    async def merge(self, mod: Moderator, question_id: int, version: int, into: int) -> dict:
        """Fold a duplicate into another question: voters united, each counted once, undoable."""

        async def work(conn: InThread) -> Outcome:
            row = await _current(conn, mod, question_id, version)
            target = await _in_event(conn, mod, into)
            if into == question_id or row["status"] not in review.MERGEABLE:
                raise LiveError(errors.INVALID, "This question cannot be merged there.")
            if target["status"] not in review.MERGE_TARGETS:
                status = errors.with_article(target["status"])
                raise LiveError(errors.INVALID, f"{status} question takes no merges.")
            if await question_store.merged_into(conn, question_id):
                raise LiveError(errors.INVALID, "Unmerge the questions merged into this one first.")
            after = await question_store.update_question(
                conn,
                question_id,
                {
                    "status": QuestionStatus.MERGED.value,
                    "merged_into": into,
                    "merged_from_status": row["status"],
                },
            )
            news = await question_news(conn, row, after)
            news += await _recounted(conn, target)
            news += await _log(conn, mod, "merge", row, details={"into": into})
            return _done(after), news

        return await self._write(work)

    async def unmerge(self, mod: Moderator, question_id: int, version: int) -> dict:
        """Undo a merge: both questions get back their own voters."""

        async def work(conn: InThread) -> Outcome:
            row = await _current(conn, mod, question_id, version)
            if row["status"] != QuestionStatus.MERGED:
                raise LiveError(errors.INVALID, "This question is not merged.")
            target = await question_store.get_question(conn, row["merged_into"])
            await question_store.update_question(
                conn,
                question_id,
                {
                    "status": row["merged_from_status"],
                    "merged_into": None,
                    "merged_from_status": None,
                },
            )
            await question_store.recount(conn, question_id)
            after = await question_store.get_question(conn, question_id)
            news = await question_news(conn, row, after)
            news += await _recounted(conn, target)
            news += await _log(conn, mod, "unmerge", row, details={"from": target["id"]})
            return _done(after), news

        return await self._write(work)

    async def label(
        self, mod: Moderator, question_id: int, version: int, topic: str | None
    ) -> dict:
        async def work(conn: InThread) -> Outcome:
            row = await _current(conn, mod, question_id, version)
            after = await question_store.update_question(conn, question_id, {"topic": topic})
            news = await question_news(conn, row, after)
            news += await _log(conn, mod, "label", row, details={"topic": topic})
            return _done(after), news

        return await self._write(work)

    async def focus(self, mod: Moderator, question_id: int | None, version: int | None) -> dict:
        """Put one question on the big screen, replacing any other, or clear the screen."""

        async def work(conn: InThread) -> Outcome:
            row = None
            if question_id is None:
                await _changing(conn, mod)
            else:
                row = await _current(conn, mod, question_id, version)
                if row["status"] not in VISIBLE_STATUSES:
                    raise LiveError(errors.INVALID, "Only a published question can go on screen.")
            news = await set_focus(conn, mod.event_id, None, question_id)
            if news:
                news += await _log(conn, mod, "focus" if row else "unfocus", row)
            event = await event_store.get_event(conn, mod.event_id)
            return {"stage": stage(event)}, news

        return await self._write(work)

    async def mute(self, mod: Moderator, participant_id: int, muted: bool) -> dict:
        """Hold a participant's new questions for review (or stop doing so)."""

        async def work(conn: InThread) -> Outcome:
            await _changing(conn, mod)
            participant = await participant_store.get_participant(conn, participant_id)
            if participant is None or participant["event_id"] != mod.event_id:
                raise LiveError(errors.NOT_FOUND, f"No participant {participant_id} here.")
            await participant_store.set_muted(conn, participant_id, muted)
            news = [await participant_news(conn, mod.event_id, participant_id)]
            entry = await moderation_store.append_log(
                conn,
                event_id=mod.event_id,
                moderator=mod.pseudonym,
                action="mute" if muted else "unmute",
                participant_id=participant_id,
            )
            news.append(to_moderators(mod.event_id, "log", {"entry": log_entry(entry)}))
            return news[0].data, news

        return await self._write(work)

    async def set_mode(self, mod: Moderator, mode: ModerationMode) -> dict:
        async def work(conn: InThread) -> Outcome:
            return await _switch_mode(conn, await _changing(conn, mod), mode, mod.pseudonym)

        return await self._write(work)

    async def set_mode_for_organiser(self, code: str, mode: ModerationMode, actor: str) -> dict:
        """The same switch from the organisers' console, logged under the organiser's name."""

        async def work(conn: InThread) -> Outcome:
            found = await event_store.get_event_by_code(conn, codes.normalise_code(code))
            if found is None:
                raise LiveError(errors.NOT_FOUND, f"No event has the code {code}.")
            return await _switch_mode(conn, await open_event(conn, found["id"]), mode, actor)

        return await self._write(work)

    async def show_balance(self, mod: Moderator, show: bool) -> dict:
        """Put the balance of voices on the big screen, or take it off."""

        async def work(conn: InThread) -> Outcome:
            event = await _changing(conn, mod)
            if bool(event["screen_balance"]) == show:
                return {"stage": stage(event)}, []
            await event_store.update_event(conn, mod.event_id, {"screen_balance": int(show)})
            news = await stage_news(conn, mod.event_id)
            news += await _log(conn, mod, "balance_on_screen" if show else "balance_off_screen", None)
            event = await event_store.get_event(conn, mod.event_id)
            return {"stage": stage(event)}, news

        return await self._write(work)

    async def set_screen_mode(self, mod: Moderator, mode: ScreenMode) -> dict:
        """Choose what the big screen's main area shows: the poll, the question in focus, or both."""

        async def work(conn: InThread) -> Outcome:
            event = await _changing(conn, mod)
            if event["screen_mode"] == mode:
                return {"stage": stage(event)}, []
            await event_store.update_event(conn, mod.event_id, {"screen_mode": mode.value})
            news = await stage_news(conn, mod.event_id)
            news += await _log(conn, mod, "screen_mode", None, details={"screen": mode.value})
            event = await event_store.get_event(conn, mod.event_id)
            return {"stage": stage(event)}, news

        return await self._write(work)

    async def record(self, code: str) -> dict:
        """The public account of an event's moderation; withheld text only where it is harmless."""
        event = await self.event(code)

        async def work(conn: InThread) -> dict:
            counts = await moderation_store.status_counts(conn, event["id"])
            channels = await moderation_store.channel_counts(conn, event["id"])
            delays = await moderation_store.decision_delays(conn, event["id"])
            withheld = await moderation_store.withheld(conn, event["id"])
            return {"counts": counts, "delays": delays, "withheld": withheld, "channels": channels}

        found = await self.db.read(work)
        flagged_votes = self._flagged_votes.get(event["id"], FLAGGED_REFRESH)
        if flagged_votes is None:
            flagged = await self.db.read(
                lambda conn: integrity.flagged_addresses(conn, event["id"])
            )
            flagged_votes = sum(f["votes"] for f in flagged)
            self._flagged_votes.put(event["id"], flagged_votes)
        counts, withheld = found["counts"], found["withheld"]
        by_reason = {r.value: 0 for r in RejectReason}
        for q in withheld:
            by_reason[q["reason"]] = by_reason.get(q["reason"], 0) + 1
        return {
            "event": public_event(event),
            "generated_at": time.time(),
            "received": sum(counts.values()),
            "received_by_channel": found["channels"],
            "published": sum(counts.get(s, 0) for s in VISIBLE_STATUSES),
            "answered": counts.get(QuestionStatus.ANSWERED, 0),
            "pending": counts.get(QuestionStatus.PENDING, 0),
            "merged": counts.get(QuestionStatus.MERGED, 0),
            "archived": counts.get(QuestionStatus.ARCHIVED, 0),
            "withdrawn_by_author": counts.get(QuestionStatus.WITHDRAWN, 0),
            "withheld": len(withheld),
            "votes_from_flagged_addresses": flagged_votes,
            "withheld_by_reason": by_reason,
            "median_seconds_to_decision": (
                statistics.median(found["delays"]) if found["delays"] else None
            ),
            "withheld_questions": [
                {
                    "id": q["id"],
                    "reason": q["reason"],
                    "asked_at": q["created_at"],
                    "decided_at": q["decided_at"],
                    "text": q["text"]
                    if q["reason"] in PUBLIC_TEXT_REASONS and q["status"] == QuestionStatus.REJECTED
                    else None,
                }
                for q in withheld
            ],
        }


async def _session(conn: InThread, mod: Moderator) -> None:
    """Authorise every action again: a revoked session can do nothing, even on an open socket."""
    if await moderation_store.live_session(conn, mod.session_id) is None:
        raise LiveError(errors.FORBIDDEN, "This moderator session has been revoked.")


async def _switch_mode(conn: InThread, event: dict, mode: ModerationMode, actor: str) -> Outcome:
    if event["moderation_mode"] == mode:
        return {"stage": stage(event)}, []
    await event_store.update_event(conn, event["id"], {"moderation_mode": mode.value})
    news = await stage_news(conn, event["id"])
    entry = await moderation_store.append_log(
        conn, event_id=event["id"], moderator=actor, action="mode", details={"mode": mode.value}
    )
    news.append(to_moderators(event["id"], "log", {"entry": log_entry(entry)}))
    event = await event_store.get_event(conn, event["id"])
    return {"stage": stage(event)}, news


async def _changing(conn: InThread, mod: Moderator) -> dict:
    """The event, for a live session's change: a closed event refuses moderators' changes too."""
    await _session(conn, mod)
    return await open_event(conn, mod.event_id)


async def _in_event(conn: InThread, mod: Moderator, question_id: int) -> dict:
    row = await question_store.get_question(conn, question_id)
    if row is None or row["event_id"] != mod.event_id:
        raise LiveError(errors.NOT_FOUND, f"No question {question_id} in this event.")
    return row


async def _current(
    conn: InThread, mod: Moderator, question_id: int, version: int | None
) -> dict:
    """The question as the moderator saw it, or a conflict carrying what it is now."""
    await _changing(conn, mod)
    row = await _in_event(conn, mod, question_id)
    if row["version"] != version:
        raise LiveError(
            errors.CONFLICT,
            "Someone changed this question a moment ago; here is how it is now.",
            {"question": moderator_question(row)},
        )
    return row


async def _recounted(conn: InThread, target: dict) -> list[News]:
    """Recount a merge target from the vote rows and tell everyone its new state."""
    await question_store.recount(conn, target["id"])
    after = await question_store.update_question(conn, target["id"], {})
    return await question_news(conn, target, after)


async def _log(
    conn: InThread,
    mod: Moderator,
    action: str,
    row: dict | None,
    *,
    reason: str | None = None,
    note: str | None = None,
    before_text: str | None = None,
    after_text: str | None = None,
    details: dict | None = None,
) -> list[News]:
    entry = await moderation_store.append_log(
        conn,
        event_id=mod.event_id,
        moderator=mod.pseudonym,
        action=action,
        question_id=row and row["id"],
        participant_id=row and row["participant_id"],
        reason=reason,
        note=note,
        before_text=before_text,
        after_text=after_text,
        details=details,
    )
    return [to_moderators(mod.event_id, "log", {"entry": log_entry(entry)})]


def _done(row: dict) -> dict:
    return {"question": moderator_question(row)}

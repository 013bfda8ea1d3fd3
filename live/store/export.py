"""Reads for the evidence export: one consistent snapshot on its own connection, row by row."""

import contextlib
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiosqlite

from live.store.db import Database, Store
from live.store.events import EVENT_COLUMNS

#: Rows fetched from SQLite per trip; bounds the export's memory whatever the event's size.
CHUNK = 256

_VOTERS = (
    "(SELECT count(DISTINCT v.participant_id) FROM votes v JOIN participants p "
    "ON p.id = v.participant_id WHERE v.question_id IN "
    "(SELECT q.id UNION ALL SELECT m.id FROM questions m WHERE m.merged_into = q.id) "
    "AND v.participant_id != q.participant_id AND p.attendance = '{}')"
)
QUESTIONS = (
    "SELECT q.id, q.created_at, q.status, q.reason, q.attendance, q.channel, q.author_name, "
    "q.text, q.topic, "
    "q.votes, " + _VOTERS.format("in_room") + " AS votes_in_room, "
    + _VOTERS.format("remote") + " AS votes_remote, "
    "q.carried_from, q.carried_votes, q.merged_into, q.disposition, q.stream_time, q.response, "
    "q.referred_to, q.due_date, q.disposed_at, q.asked_before_start "
    "FROM questions q WHERE q.event_id = ? ORDER BY q.id"
)
LOG = (
    "SELECT id, at, moderator, action, question_id, reason, note, details FROM moderation_log "
    "WHERE event_id = ? ORDER BY id"
)
#: Per minute and attendance: people joining, questions asked, votes cast, poll answers given.
PARTICIPATION = """
    WITH acts(at, attendance, kind) AS (
        SELECT created_at, attendance, 'joined' FROM participants WHERE event_id = ?1
        UNION ALL SELECT created_at, attendance, 'questions' FROM questions
            WHERE event_id = ?1 AND carried_from IS NULL
        UNION ALL SELECT v.created_at, p.attendance, 'votes' FROM votes v
            JOIN questions q ON q.id = v.question_id
            JOIN participants p ON p.id = v.participant_id WHERE q.event_id = ?1
        UNION ALL SELECT r.created_at, r.attendance, 'poll_answers' FROM poll_responses r
            JOIN polls ON polls.id = r.poll_id WHERE polls.event_id = ?1
    )
    SELECT CAST(at / 60 AS INTEGER) * 60 AS minute, attendance,
        count(*) FILTER (WHERE kind = 'joined') AS joined,
        count(*) FILTER (WHERE kind = 'questions') AS questions,
        count(*) FILTER (WHERE kind = 'votes') AS votes,
        count(*) FILTER (WHERE kind = 'poll_answers') AS poll_answers
    FROM acts GROUP BY minute, attendance ORDER BY minute, attendance
"""


class Snapshot:
    """One read transaction: every section of every event comes from the same moment."""

    def __init__(self, rows: Callable[[str, tuple], AsyncIterator[dict]]) -> None:
        self._rows = rows

    async def _all(self, sql: str, parameters: tuple) -> list[dict]:
        return [row async for row in self._rows(sql, parameters)]

    async def events(self, event_ids: list[int]) -> list[dict]:
        marks = ", ".join("?" for _ in event_ids)
        return await self._all(
            f"SELECT {EVENT_COLUMNS} FROM events WHERE id IN ({marks}) ORDER BY created_at, id",
            tuple(event_ids),
        )

    def questions(self, event_id: int) -> AsyncIterator[dict]:
        return self._rows(QUESTIONS, (event_id,))

    def moderation_log(self, event_id: int) -> AsyncIterator[dict]:
        return self._rows(LOG, (event_id,))

    def participation(self, event_id: int) -> AsyncIterator[dict]:
        return self._rows(PARTICIPATION, (event_id,))

    async def polls(self, event_id: int) -> AsyncIterator[dict]:
        async for poll in self._rows(
            "SELECT * FROM polls WHERE event_id = ? ORDER BY id", (event_id,)
        ):
            yield {
                **poll,
                "options": json.loads(poll["options"]),
                "settings": json.loads(poll["settings"]),
            }

    async def responses(self, poll_id: int) -> list[tuple[str, object]]:
        """(attendance, answer) of the poll's counted responses: one poll's worth at a time."""
        rows = await self._all(
            "SELECT attendance, answer FROM poll_responses WHERE poll_id = ? AND counted = 1 "
            "ORDER BY updated_at",
            (poll_id,),
        )
        return [(row["attendance"], json.loads(row["answer"])) for row in rows]


def snapshot(db: Store) -> contextlib.AbstractAsyncContextManager[Snapshot]:
    """A connection of its own, so a slow download never holds up the shared reader."""
    if isinstance(db, Database):
        return _sqlite_snapshot(db.path)
    return db.snapshot(Snapshot, CHUNK)


@contextlib.asynccontextmanager
async def _sqlite_snapshot(path: Path) -> AsyncIterator[Snapshot]:
    conn = await aiosqlite.connect(
        Path(path).resolve().as_uri() + "?mode=ro", uri=True, iter_chunk_size=CHUNK
    )

    async def rows(sql: str, parameters: tuple) -> AsyncIterator[dict]:
        async with conn.execute(sql, parameters) as cur:
            while batch := await cur.fetchmany(CHUNK):
                for row in batch:
                    yield dict(row)

    try:
        conn.row_factory = aiosqlite.Row
        await conn.execute("BEGIN")
        yield Snapshot(rows)
    finally:
        await conn.close()

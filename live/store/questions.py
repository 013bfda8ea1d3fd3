"""Queries on questions and votes; vote counts are always recomputed from the vote rows."""

import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from live.domain.model import VISIBLE_STATUSES, EventState
from live.store import events as event_store
from live.store import participants as participant_store
from live.store.db import Call, InThread, Work
from live.store.dialect import POSTGRESQL, WRITE_LOCK

T = TypeVar("T")


QUESTION_COLUMNS = (
    "id, event_id, participant_id, text, author_name, attendance, status, votes, created_at, seq, "
    "version, reason, note, flags, original_text, duplicate_of, merged_into, merged_from_status, "
    "topic, decided_at, disposition, stream_time, response, referred_to, due_date, disposed_at, "
    "carried_from, carried_votes, channel, asked_before_start, "
    "(SELECT json_group_array(json_object('author_name', m.author_name, "
    "'attendance', m.attendance)) FROM questions m WHERE m.merged_into = questions.id) "
    "AS merged_authors"
)
UPDATABLE = frozenset(
    {"status", "text", "reason", "note", "original_text", "merged_into", "merged_from_status",
     "topic", "decided_at", "disposition", "stream_time", "response", "referred_to", "due_date",
     "disposed_at"}
)


async def insert_question(
    conn: InThread,
    *,
    event_id: int,
    participant_id: int,
    text: str,
    author_name: str | None,
    attendance: str,
    status: str,
    seq: int,
    flags: list[str],
    reason: str | None,
    duplicate_of: int | None,
    channel: str = "device",
    asked_before_start: bool = False,
) -> dict:
    now = time.time()
    cur = await conn.execute(
        "INSERT INTO questions (event_id, participant_id, text, author_name, attendance, status, "
        "created_at, seq, flags, reason, duplicate_of, decided_at, channel, asked_before_start) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            event_id, participant_id, text, author_name, attendance, status, now, seq,
            json.dumps(flags), reason, duplicate_of, now if reason is not None else None, channel,
            int(asked_before_start),
        ),
    )
    return await get_question(conn, cur.lastrowid)


async def get_question(conn: InThread, question_id: int) -> dict | None:
    async with conn.execute(
        f"SELECT {QUESTION_COLUMNS} FROM questions WHERE id = ?", (question_id,)
    ) as cur:
        row = await cur.fetchone()
    return None if row is None else dict(row)


async def vote_target(conn: InThread, event_id: int, question_id: int) -> sqlite3.Row | None:
    """What a vote checks, in one statement: the event's state, and the few columns of the
    question (NULL when it is not in this event) without the full row and its merged authors;
    None when the event does not exist."""
    async with conn.execute(
        "SELECT e.state, q.event_id, q.participant_id, q.status, q.votes FROM events e "
        "LEFT JOIN questions q ON q.id = ? AND q.event_id = e.id WHERE e.id = ?",
        (question_id, event_id),
    ) as cur:
        return await cur.fetchone()


async def update_question(conn: InThread, question_id: int, fields: dict) -> dict:
    """Change a question and advance its version, so moderators acting on what they saw conflict."""
    assert set(fields) <= UPDATABLE, f"not updatable: {set(fields) - UPDATABLE}"
    assignments = "".join(f"{name} = ?, " for name in fields)
    await conn.execute(
        f"UPDATE questions SET {assignments}version = version + 1 WHERE id = ?",
        (*fields.values(), question_id),
    )
    return await get_question(conn, question_id)


async def merged_into(conn: InThread, question_id: int) -> list[int]:
    async with conn.execute(
        "SELECT id FROM questions WHERE merged_into = ? ORDER BY id", (question_id,)
    ) as cur:
        return [row[0] for row in await cur.fetchall()]


async def visible_texts(
    conn: InThread, event_id: int, statuses: frozenset[str]
) -> list[tuple[int, str]]:
    marks = ", ".join("?" for _ in statuses)
    async with conn.execute(
        f"SELECT id, text FROM questions WHERE event_id = ? AND status IN ({marks}) ORDER BY id",
        (event_id, *sorted(statuses)),
    ) as cur:
        return [(row[0], row[1]) for row in await cur.fetchall()]


async def questions_of_event(conn: InThread, event_id: int) -> list[dict]:
    async with conn.execute(
        f"SELECT {QUESTION_COLUMNS} FROM questions WHERE event_id = ? ORDER BY id", (event_id,)
    ) as cur:
        return [dict(row) for row in await cur.fetchall()]


async def questions_with_status(
    conn: InThread, event_id: int, statuses: frozenset[str]
) -> list[dict]:
    marks = ", ".join("?" for _ in statuses)
    async with conn.execute(
        f"SELECT {QUESTION_COLUMNS} FROM questions WHERE event_id = ? AND status IN ({marks}) "
        "ORDER BY id",
        (event_id, *sorted(statuses)),
    ) as cur:
        return [dict(row) for row in await cur.fetchall()]


async def questions_of(conn: InThread, participant_id: int) -> list[dict]:
    async with conn.execute(
        f"SELECT {QUESTION_COLUMNS} FROM questions WHERE participant_id = ? ORDER BY id",
        (participant_id,),
    ) as cur:
        return [dict(row) for row in await cur.fetchall()]


async def count_recent(conn: InThread, participant_id: int, since: float) -> int:
    async with conn.execute(
        "SELECT count(*) FROM questions WHERE participant_id = ? AND created_at >= ?",
        (participant_id, since),
    ) as cur:
        (count,) = await cur.fetchone()
    return count


@dataclass(frozen=True)
class Voted:
    """What one vote command found and did: the op_id's earlier command and ack (then nothing
    else was done), or whether a vote row changed, the new seq when one did, and the count."""

    prior: tuple[str, dict] | None = None
    changed: bool = False
    seq: int | None = None
    votes: int | None = None

    def ack(self, question_id: int, up: bool) -> dict:
        return {"question_id": question_id, "voted": up, "votes": self.votes}


def vote(
    dialect: str,
    *,
    event_id: int,
    question_id: int,
    participant_id: int,
    up: bool,
    command: str,
    op_id: str | None,
    check: Callable[[Any], None],
    outcome: Callable[[Voted], T],
) -> Work[T]:
    """The unit of work that sets or clears a vote, once per op_id, and gives `outcome` of what
    it did: `check` refuses a target (`vote_target`'s row) by raising. On PostgreSQL the whole
    command is one call of migration 13's `live_votes`, which applies the vote where the same
    rule holds, and `check` names the refusal of one it did not apply. Votes committed together
    there each get their question's count after all of them, derived from the rows once."""
    if dialect == POSTGRESQL:

        def finish(row: Any) -> T:
            if row["r_used_for"] is not None:
                return outcome(Voted(prior=(row["r_used_for"], json.loads(row["r_prior"]))))
            if not row["r_applied"]:
                check(row)
                raise RuntimeError("live_votes refused a vote that the caller's check allows")
            return outcome(Voted(changed=row["r_changed"], seq=row["r_seq"], votes=row["votes"]))

        return Call(
            "SELECT r_used_for, r_prior, r_state AS state, r_event AS event_id, "
            "r_author AS participant_id, r_status AS status, r_votes AS votes, r_applied, "
            "r_changed, r_seq FROM live_votes(?, ?, ?, ?::text[], ?::integer[], ?::integer[], "
            "?::boolean[], ?::text[], ?::text[], ?::double precision[])",
            (WRITE_LOCK, event_id, EventState.OPEN.value, sorted(VISIBLE_STATUSES)),
            (question_id, participant_id, up, command, op_id, time.time()),
            finish,
        )

    async def work(conn: InThread) -> T:
        if op_id is not None:
            prior = await participant_store.get_operation(conn, participant_id, op_id)
            if prior is not None:
                return outcome(Voted(prior=prior))
        target = await vote_target(conn, event_id, question_id)
        check(target)
        if up:
            changed = await add_vote(conn, question_id, participant_id)
        else:
            changed = await remove_vote(conn, question_id, participant_id)
        voted = Voted(votes=target["votes"])
        if changed:
            seq = await event_store.next_seq(conn, event_id)
            voted = Voted(changed=True, seq=seq, votes=await recount(conn, question_id))
        if op_id is not None:
            await participant_store.put_operation(
                conn, participant_id, op_id, command, voted.ack(question_id, up)
            )
        return outcome(voted)

    return work


async def add_vote(conn: InThread, question_id: int, participant_id: int) -> bool:
    """Insert the vote row; False when it was already there."""
    cur = await conn.execute(
        "INSERT INTO votes (question_id, participant_id, created_at) VALUES (?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        (question_id, participant_id, time.time()),
    )
    return cur.rowcount == 1


async def remove_vote(conn: InThread, question_id: int, participant_id: int) -> bool:
    """Delete the votes on the question and on those merged into it; False when there were none."""
    cur = await conn.execute(
        "DELETE FROM votes WHERE participant_id = ? AND (question_id = ? OR question_id IN "
        "(SELECT id FROM questions WHERE merged_into = ?))",
        (participant_id, question_id, question_id),
    )
    return cur.rowcount >= 1


async def recount(conn: InThread, question_id: int) -> int:
    """Derive the count from the rows: distinct voters on it and on questions merged into it.

    A person who voted for both counts once; the author never counts for their own question.
    Without merges every row is a distinct voter, so the count is a plain range count on the
    primary key, without the temporary b-tree DISTINCT needs (four times faster at 2,500 votes).
    """
    return await conn.updated(
        "UPDATE questions SET votes = CASE WHEN EXISTS "
        "(SELECT 1 FROM questions m WHERE m.merged_into = ?1) "
        "THEN (SELECT count(DISTINCT v.participant_id) FROM votes v "
        "JOIN questions q ON q.id = v.question_id WHERE (q.id = ?1 OR q.merged_into = ?1) "
        "AND v.participant_id != questions.participant_id) "
        "ELSE (SELECT count(*) FROM votes WHERE question_id = ?1) - CASE WHEN EXISTS (SELECT 1 "
        "FROM votes WHERE question_id = ?1 AND participant_id = questions.participant_id) "
        "THEN 1 ELSE 0 END END "
        "WHERE id = ?1",
        "SELECT votes FROM questions WHERE id = ?1",
        (question_id,),
    )


async def votes_of(conn: InThread, participant_id: int, event_id: int) -> list[int]:
    async with conn.execute(
        "SELECT DISTINCT coalesce(q.merged_into, q.id) AS counted FROM votes v "
        "JOIN questions q ON q.id = v.question_id "
        "WHERE v.participant_id = ? AND q.event_id = ? ORDER BY counted",
        (participant_id, event_id),
    ) as cur:
        return [row[0] for row in await cur.fetchall()]

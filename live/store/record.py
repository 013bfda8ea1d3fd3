"""Queries for after the stream: dispositions, series, carried questions and the balance of voices."""

import time

from live.domain.model import Channel
from live.store.db import InThread
from live.store.events import EVENT_COLUMNS
from live.store.questions import QUESTION_COLUMNS


async def set_series(conn: InThread, event_id: int, series: str | None) -> None:
    await conn.execute("UPDATE events SET series = ? WHERE id = ?", (series, event_id))


async def events_of_series(conn: InThread, series: str) -> list[dict]:
    async with conn.execute(
        f"SELECT {EVENT_COLUMNS} FROM events WHERE series = ? ORDER BY created_at, id", (series,)
    ) as cur:
        return [dict(row) for row in await cur.fetchall()]


async def carried_questions(
    conn: InThread, from_event: int, to_event: int
) -> list[dict]:
    """Published questions still open in one event and not yet carried into the other."""
    async with conn.execute(
        f"SELECT {QUESTION_COLUMNS} FROM questions WHERE event_id = ? "
        "AND status = 'published' AND disposition = 'open' AND NOT EXISTS "
        "(SELECT 1 FROM questions c WHERE c.event_id = ? AND c.carried_from = questions.id) "
        "ORDER BY id",
        (from_event, to_event),
    ) as cur:
        return [dict(row) for row in await cur.fetchall()]


async def insert_carried(
    conn: InThread, question: dict, to_event: int, participant_id: int, seq: int
) -> int:
    """A copy in the next event that remembers its origin and the votes it had there."""
    cur = await conn.execute(
        "INSERT INTO questions (event_id, participant_id, text, author_name, attendance, status, "
        "created_at, seq, topic, carried_from, carried_votes, channel) "
        "VALUES (?, ?, ?, ?, ?, 'published', ?, ?, ?, ?, ?, ?)",
        (
            to_event, participant_id, question["text"], question["author_name"],
            question["attendance"], time.time(), seq, question["topic"], question["id"],
            question["carried_votes"] + question["votes"], question["channel"],
        ),
    )
    return cur.lastrowid


async def count_asked_before_start(conn: InThread, event_id: int) -> int:
    """Questions asked before the event's scheduled start and not withdrawn, for the report."""
    async with conn.execute(
        "SELECT count(*) FROM questions WHERE event_id = ? AND status != 'withdrawn' "
        "AND asked_before_start = 1",
        (event_id,),
    ) as cur:
        (count,) = await cur.fetchone()
    return count


async def published_questions(conn: InThread, event_id: int) -> list[dict]:
    """Every question that reached the audience, for the public record; one carried into
    several events names the first."""
    async with conn.execute(
        f"SELECT {QUESTION_COLUMNS}, (SELECT e.code FROM questions c JOIN events e "
        "ON e.id = c.event_id WHERE c.carried_from = questions.id ORDER BY c.id LIMIT 1) "
        "AS carried_to "
        "FROM questions WHERE event_id = ? AND status IN ('published', 'answered') ORDER BY id",
        (event_id,),
    ) as cur:
        return [dict(row) for row in await cur.fetchall()]


async def balance(conn: InThread, event_id: int) -> list[dict]:
    """Per attendance: questions asked, published, put on screen and answered; votes; poll answers."""
    async with conn.execute(
        "WITH q AS (SELECT * FROM questions WHERE event_id = ?1), "
        "sides(attendance) AS (VALUES ('in_room'), ('remote')) "
        "SELECT sides.attendance, "
        "(SELECT count(*) FROM q WHERE q.attendance = sides.attendance "
        " AND q.status != 'withdrawn' AND q.carried_from IS NULL) AS questions, "
        "(SELECT count(*) FROM q WHERE q.attendance = sides.attendance "
        " AND q.status IN ('published', 'answered')) AS published, "
        "(SELECT count(DISTINCT l.question_id) FROM moderation_log l JOIN q ON q.id = l.question_id "
        " WHERE l.event_id = ?1 AND l.action = 'focus' AND q.attendance = sides.attendance) "
        " AS on_screen, "
        "(SELECT count(*) FROM q WHERE q.attendance = sides.attendance "
        " AND q.status = 'answered') AS answered, "
        "(SELECT count(*) FROM votes v JOIN q ON q.id = v.question_id "
        " JOIN participants p ON p.id = v.participant_id WHERE p.attendance = sides.attendance) "
        " AS votes, "
        "(SELECT count(*) FROM poll_responses r JOIN polls ON polls.id = r.poll_id "
        " WHERE polls.event_id = ?1 AND r.attendance = sides.attendance) AS poll_answers "
        "FROM sides",
        (event_id,),
    ) as cur:
        return [dict(row) for row in await cur.fetchall()]


async def channel_balance(conn: InThread, event_id: int) -> list[dict]:
    """Per channel: questions asked, published, put on screen and answered."""
    channels = ", ".join(f"('{c.value}')" for c in Channel)
    async with conn.execute(
        "WITH q AS (SELECT * FROM questions WHERE event_id = ?1), "
        f"channels(channel) AS (VALUES {channels}) "
        "SELECT channels.channel, "
        "(SELECT count(*) FROM q WHERE q.channel = channels.channel "
        " AND q.status != 'withdrawn' AND q.carried_from IS NULL) AS questions, "
        "(SELECT count(*) FROM q WHERE q.channel = channels.channel "
        " AND q.status IN ('published', 'answered')) AS published, "
        "(SELECT count(DISTINCT l.question_id) FROM moderation_log l JOIN q ON q.id = l.question_id "
        " WHERE l.event_id = ?1 AND l.action = 'focus' AND q.channel = channels.channel) "
        " AS on_screen, "
        "(SELECT count(*) FROM q WHERE q.channel = channels.channel "
        " AND q.status = 'answered') AS answered "
        "FROM channels",
        (event_id,),
    ) as cur:
        return [dict(row) for row in await cur.fetchall()]


async def set_receipt_address(conn: InThread, participant_id: int, email: str) -> None:
    await conn.execute(
        "INSERT INTO receipt_addresses (participant_id, email, created_at) VALUES (?, ?, ?) "
        "ON CONFLICT (participant_id) DO UPDATE SET email = excluded.email",
        (participant_id, email, time.time()),
    )


async def delete_receipt_address(conn: InThread, participant_id: int) -> bool:
    cur = await conn.execute(
        "DELETE FROM receipt_addresses WHERE participant_id = ?", (participant_id,)
    )
    return cur.rowcount == 1


async def receipt_address(conn: InThread, participant_id: int) -> str | None:
    async with conn.execute(
        "SELECT email FROM receipt_addresses WHERE participant_id = ?", (participant_id,)
    ) as cur:
        row = await cur.fetchone()
    return None if row is None else row[0]


async def receipt_addresses_for(conn: InThread, question_id: int) -> list[str]:
    """Addresses of the question's author and of those whose questions were merged into it."""
    async with conn.execute(
        "SELECT DISTINCT a.email FROM questions q JOIN receipt_addresses a "
        "ON a.participant_id = q.participant_id WHERE q.id = ?1 OR q.merged_into = ?1 "
        "ORDER BY a.email",
        (question_id,),
    ) as cur:
        return [row[0] for row in await cur.fetchall()]


async def participant_counts(conn: InThread, event_id: int) -> dict[str, int]:
    """How many joined the event from the room and online."""
    async with conn.execute(
        "SELECT attendance, count(*) AS n FROM participants WHERE event_id = ? GROUP BY attendance",
        (event_id,),
    ) as cur:
        found = {row["attendance"]: row["n"] for row in await cur.fetchall()}
    return {side: found.get(side, 0) for side in ("in_room", "remote")}

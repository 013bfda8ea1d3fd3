"""Queries on questions and votes; vote counts are always recomputed from the vote rows."""

import time

import aiosqlite

QUESTION_COLUMNS = (
    "id, event_id, participant_id, text, author_name, attendance, status, votes, created_at, seq"
)


async def insert_question(
    conn: aiosqlite.Connection,
    *,
    event_id: int,
    participant_id: int,
    text: str,
    author_name: str | None,
    attendance: str,
    status: str,
    seq: int,
) -> dict:
    async with conn.execute(
        "INSERT INTO questions (event_id, participant_id, text, author_name, attendance, status, "
        f"created_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING {QUESTION_COLUMNS}",
        (event_id, participant_id, text, author_name, attendance, status, time.time(), seq),
    ) as cur:
        return dict(await cur.fetchone())


async def get_question(conn: aiosqlite.Connection, question_id: int) -> dict | None:
    async with conn.execute(
        f"SELECT {QUESTION_COLUMNS} FROM questions WHERE id = ?", (question_id,)
    ) as cur:
        row = await cur.fetchone()
    return None if row is None else dict(row)


async def set_status(conn: aiosqlite.Connection, question_id: int, status: str, seq: int) -> None:
    await conn.execute(
        "UPDATE questions SET status = ?, seq = ? WHERE id = ?", (status, seq, question_id)
    )


async def questions_with_status(
    conn: aiosqlite.Connection, event_id: int, statuses: frozenset[str]
) -> list[dict]:
    marks = ", ".join("?" for _ in statuses)
    async with conn.execute(
        f"SELECT {QUESTION_COLUMNS} FROM questions WHERE event_id = ? AND status IN ({marks}) "
        "ORDER BY id",
        (event_id, *sorted(statuses)),
    ) as cur:
        return [dict(row) for row in await cur.fetchall()]


async def questions_of(conn: aiosqlite.Connection, participant_id: int) -> list[dict]:
    async with conn.execute(
        f"SELECT {QUESTION_COLUMNS} FROM questions WHERE participant_id = ? ORDER BY id",
        (participant_id,),
    ) as cur:
        return [dict(row) for row in await cur.fetchall()]


async def count_recent(conn: aiosqlite.Connection, participant_id: int, since: float) -> int:
    async with conn.execute(
        "SELECT count(*) FROM questions WHERE participant_id = ? AND created_at >= ?",
        (participant_id, since),
    ) as cur:
        (count,) = await cur.fetchone()
    return count


async def add_vote(conn: aiosqlite.Connection, question_id: int, participant_id: int) -> bool:
    """Insert the vote row; False when it was already there."""
    cur = await conn.execute(
        "INSERT INTO votes (question_id, participant_id, created_at) VALUES (?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        (question_id, participant_id, time.time()),
    )
    return cur.rowcount == 1


async def remove_vote(conn: aiosqlite.Connection, question_id: int, participant_id: int) -> bool:
    """Delete the vote row; False when there was none."""
    cur = await conn.execute(
        "DELETE FROM votes WHERE question_id = ? AND participant_id = ?",
        (question_id, participant_id),
    )
    return cur.rowcount == 1


async def recount(conn: aiosqlite.Connection, question_id: int) -> int:
    """Derive the question's vote count from its rows and store it."""
    async with conn.execute(
        "UPDATE questions SET votes = (SELECT count(*) FROM votes WHERE question_id = ?) "
        "WHERE id = ? RETURNING votes",
        (question_id, question_id),
    ) as cur:
        (votes,) = await cur.fetchone()
    return votes


async def votes_of(conn: aiosqlite.Connection, participant_id: int, event_id: int) -> list[int]:
    async with conn.execute(
        "SELECT v.question_id FROM votes v JOIN questions q ON q.id = v.question_id "
        "WHERE v.participant_id = ? AND q.event_id = ? ORDER BY v.question_id",
        (participant_id, event_id),
    ) as cur:
        return [row[0] for row in await cur.fetchall()]

"""Queries on moderator sessions, the append-only moderation log and the public record."""

import json
import time

from live.domain.model import Channel
from live.store.db import InThread


SESSION_COLUMNS = "id, event_id, pseudonym, created_at, revoked_at"


async def insert_session(
    conn: InThread, event_id: int, token_hash: str, pseudonym: str
) -> dict:
    async with conn.execute(
        "INSERT INTO moderator_sessions (event_id, token_hash, pseudonym, created_at) "
        f"VALUES (?, ?, ?, ?) RETURNING {SESSION_COLUMNS}",
        (event_id, token_hash, pseudonym, time.time()),
    ) as cur:
        return dict(await cur.fetchone())


async def live_session_by_token(
    conn: InThread, event_id: int, token_hash: str
) -> dict | None:
    async with conn.execute(
        f"SELECT {SESSION_COLUMNS} FROM moderator_sessions "
        "WHERE event_id = ? AND token_hash = ? AND revoked_at IS NULL",
        (event_id, token_hash),
    ) as cur:
        row = await cur.fetchone()
    return None if row is None else dict(row)


async def live_session(conn: InThread, session_id: int) -> dict | None:
    async with conn.execute(
        f"SELECT {SESSION_COLUMNS} FROM moderator_sessions WHERE id = ? AND revoked_at IS NULL",
        (session_id,),
    ) as cur:
        row = await cur.fetchone()
    return None if row is None else dict(row)


async def sessions_of(conn: InThread, event_id: int) -> list[dict]:
    async with conn.execute(
        f"SELECT {SESSION_COLUMNS} FROM moderator_sessions WHERE event_id = ? ORDER BY id",
        (event_id,),
    ) as cur:
        return [dict(row) for row in await cur.fetchall()]


async def revoke_session(conn: InThread, event_id: int, session_id: int) -> bool:
    cur = await conn.execute(
        "UPDATE moderator_sessions SET revoked_at = ? "
        "WHERE id = ? AND event_id = ? AND revoked_at IS NULL",
        (time.time(), session_id, event_id),
    )
    return cur.rowcount == 1


async def revoke_sessions_of_event(conn: InThread, event_id: int) -> int:
    """End every moderator session of an event; how many were still live."""
    async with conn.execute(
        "UPDATE moderator_sessions SET revoked_at = ? WHERE event_id = ? AND revoked_at IS NULL",
        (time.time(), event_id),
    ) as cur:
        return cur.rowcount


async def revoked_among(conn: InThread, session_ids: list[int]) -> set[int]:
    """Which of these sessions may no longer act (revoked, or never existed)."""
    if not session_ids:
        return set()
    marks = ", ".join("?" for _ in session_ids)
    async with conn.execute(
        f"SELECT id FROM moderator_sessions WHERE id IN ({marks}) AND revoked_at IS NULL",
        session_ids,
    ) as cur:
        alive = {row[0] for row in await cur.fetchall()}
    return set(session_ids) - alive


async def append_log(
    conn: InThread,
    *,
    event_id: int,
    moderator: str,
    action: str,
    question_id: int | None = None,
    participant_id: int | None = None,
    reason: str | None = None,
    note: str | None = None,
    before_text: str | None = None,
    after_text: str | None = None,
    details: dict | None = None,
) -> dict:
    async with conn.execute(
        "INSERT INTO moderation_log (event_id, at, moderator, action, question_id, "
        "participant_id, reason, note, before_text, after_text, details) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
        (
            event_id, time.time(), moderator, action, question_id, participant_id, reason, note,
            before_text, after_text, json.dumps(details) if details else None,
        ),
    ) as cur:
        return dict(await cur.fetchone())


async def log_of(conn: InThread, event_id: int, limit: int) -> list[dict]:
    """The latest entries of the event's log, newest first."""
    async with conn.execute(
        "SELECT * FROM moderation_log WHERE event_id = ? ORDER BY id DESC LIMIT ?",
        (event_id, limit),
    ) as cur:
        return [dict(row) for row in await cur.fetchall()]


#: A question its author withdrew after moderators (or a filter) rejected it: the decision was
#: made and stays on the public record as withheld; an approval clears the reason.
WITHDRAWN_AFTER_REJECTION = "status = 'withdrawn' AND reason IS NOT NULL"


async def status_counts(conn: InThread, event_id: int) -> dict[str, int]:
    """Questions per status, for the public record: one withdrawn after rejection counts as rejected."""
    async with conn.execute(
        f"SELECT CASE WHEN {WITHDRAWN_AFTER_REJECTION} THEN 'rejected' ELSE status END AS shown, "
        "count(*) FROM questions WHERE event_id = ? GROUP BY shown",
        (event_id,),
    ) as cur:
        return {row[0]: row[1] for row in await cur.fetchall()}


async def channel_counts(conn: InThread, event_id: int) -> dict[str, int]:
    """Questions received per channel, every channel named, for the public record."""
    async with conn.execute(
        "SELECT channel, count(*) FROM questions WHERE event_id = ? GROUP BY channel", (event_id,)
    ) as cur:
        found = {row[0]: row[1] for row in await cur.fetchall()}
    return {channel.value: found.get(channel.value, 0) for channel in Channel}


async def decision_delays(conn: InThread, event_id: int) -> list[float]:
    """Seconds from asking to the first approve or reject, for every question that was decided."""
    async with conn.execute(
        "SELECT decided_at - created_at FROM questions "
        "WHERE event_id = ? AND decided_at IS NOT NULL ORDER BY 1",
        (event_id,),
    ) as cur:
        return [row[0] for row in await cur.fetchall()]


async def withheld(conn: InThread, event_id: int) -> list[dict]:
    async with conn.execute(
        "SELECT id, text, status, reason, created_at, decided_at FROM questions "
        f"WHERE event_id = ? AND (status = 'rejected' OR {WITHDRAWN_AFTER_REJECTION}) ORDER BY id",
        (event_id,),
    ) as cur:
        return [dict(row) for row in await cur.fetchall()]

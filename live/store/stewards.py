"""Queries on steward sessions and on who entered which question for a person without a device."""

import time

from live.store.db import InThread
from live.store.questions import QUESTION_COLUMNS

SESSION_COLUMNS = "id, event_id, pseudonym, created_at, revoked_at"


async def insert_session(conn: InThread, event_id: int, token_hash: str, pseudonym: str) -> dict:
    async with conn.execute(
        "INSERT INTO steward_sessions (event_id, token_hash, pseudonym, created_at) "
        f"VALUES (?, ?, ?, ?) RETURNING {SESSION_COLUMNS}",
        (event_id, token_hash, pseudonym, time.time()),
    ) as cur:
        return dict(await cur.fetchone())


async def live_session_by_token(conn: InThread, event_id: int, token_hash: str) -> dict | None:
    async with conn.execute(
        f"SELECT {SESSION_COLUMNS} FROM steward_sessions "
        "WHERE event_id = ? AND token_hash = ? AND revoked_at IS NULL",
        (event_id, token_hash),
    ) as cur:
        row = await cur.fetchone()
    return None if row is None else dict(row)


async def live_session(conn: InThread, session_id: int) -> dict | None:
    async with conn.execute(
        f"SELECT {SESSION_COLUMNS} FROM steward_sessions WHERE id = ? AND revoked_at IS NULL",
        (session_id,),
    ) as cur:
        row = await cur.fetchone()
    return None if row is None else dict(row)


async def revoke_session(conn: InThread, session_id: int) -> None:
    await conn.execute(
        "UPDATE steward_sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
        (time.time(), session_id),
    )


async def revoke_sessions(conn: InThread, event_id: int) -> int:
    """End every steward session of the event; how many were live."""
    cur = await conn.execute(
        "UPDATE steward_sessions SET revoked_at = ? WHERE event_id = ? AND revoked_at IS NULL",
        (time.time(), event_id),
    )
    return cur.rowcount


async def insert_entry(
    conn: InThread,
    *,
    question_id: int,
    event_id: int,
    steward_session_id: int | None,
    moderator_session_id: int | None,
) -> None:
    await conn.execute(
        "INSERT INTO entries (question_id, event_id, steward_session_id, moderator_session_id, "
        "created_at) VALUES (?, ?, ?, ?, ?)",
        (question_id, event_id, steward_session_id, moderator_session_id, time.time()),
    )


async def count_entries(
    conn: InThread, *, steward_session_id: int | None, moderator_session_id: int | None,
    since: float,
) -> int:
    """Questions one steward or moderator session entered since a moment."""
    async with conn.execute(
        "SELECT count(*) FROM entries WHERE created_at >= ? AND "
        "(steward_session_id = ? OR moderator_session_id = ?)",
        (since, steward_session_id, moderator_session_id),
    ) as cur:
        (count,) = await cur.fetchone()
    return count


async def entered_by(conn: InThread, steward_session_id: int) -> list[dict]:
    """The questions one steward session entered, oldest first, as they are now."""
    async with conn.execute(
        f"SELECT {QUESTION_COLUMNS} FROM questions WHERE id IN "
        "(SELECT question_id FROM entries WHERE steward_session_id = ?) ORDER BY id",
        (steward_session_id,),
    ) as cur:
        return [dict(row) for row in await cur.fetchall()]

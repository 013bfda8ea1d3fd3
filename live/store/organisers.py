"""Queries on organiser accounts."""

import time

from live.store.db import InThread

ORGANISER_COLUMNS = "id, name, created_at"


async def insert_organiser(conn: InThread, name: str, password_hash: str) -> dict | None:
    """The new account, or None when an account of that name (in any case) exists."""
    async with conn.execute(
        "INSERT INTO organisers (name, password_hash, created_at) VALUES (?, ?, ?) "
        f"ON CONFLICT DO NOTHING RETURNING {ORGANISER_COLUMNS}",
        (name, password_hash, time.time()),
    ) as cur:
        row = await cur.fetchone()
    return None if row is None else dict(row)


async def organiser_by_name(conn: InThread, name: str) -> dict | None:
    """The current account of that name, with its password hash."""
    async with conn.execute(
        f"SELECT {ORGANISER_COLUMNS}, password_hash FROM organisers "
        "WHERE name = ? COLLATE NOCASE AND removed_at IS NULL",
        (name,),
    ) as cur:
        row = await cur.fetchone()
    return None if row is None else dict(row)


async def list_organisers(conn: InThread) -> list[dict]:
    async with conn.execute(
        f"SELECT {ORGANISER_COLUMNS} FROM organisers WHERE removed_at IS NULL ORDER BY name"
    ) as cur:
        return [dict(row) for row in await cur.fetchall()]


async def set_password_hash(conn: InThread, organiser_id: int, password_hash: str) -> None:
    await conn.execute(
        "UPDATE organisers SET password_hash = ? WHERE id = ?", (password_hash, organiser_id)
    )


async def remove_organiser(conn: InThread, organiser_id: int) -> None:
    await conn.execute(
        "UPDATE organisers SET removed_at = ? WHERE id = ?", (time.time(), organiser_id)
    )


async def insert_session(conn: InThread, organiser_id: int, token_hash: str) -> int:
    async with conn.execute(
        "INSERT INTO organiser_sessions (organiser_id, token_hash, created_at) VALUES (?, ?, ?) "
        "RETURNING id",
        (organiser_id, token_hash, time.time()),
    ) as cur:
        (session_id,) = await cur.fetchone()
    return session_id


async def live_session(conn: InThread, token_hash: str, since: float) -> dict | None:
    """The session of this cookie and its organiser, unless revoked, expired or removed."""
    async with conn.execute(
        "SELECT s.id AS session_id, o.id AS organiser_id, o.name AS name "
        "FROM organiser_sessions s JOIN organisers o ON o.id = s.organiser_id "
        "WHERE s.token_hash = ? AND s.revoked_at IS NULL AND s.created_at > ? "
        "AND o.removed_at IS NULL",
        (token_hash, since),
    ) as cur:
        row = await cur.fetchone()
    return None if row is None else dict(row)


async def revoke_session(conn: InThread, session_id: int) -> None:
    await conn.execute(
        "UPDATE organiser_sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
        (time.time(), session_id),
    )


async def revoke_sessions_of(conn: InThread, organiser_id: int) -> int:
    """End every session of one organiser; how many were still live."""
    async with conn.execute(
        "UPDATE organiser_sessions SET revoked_at = ? "
        "WHERE organiser_id = ? AND revoked_at IS NULL",
        (time.time(), organiser_id),
    ) as cur:
        return cur.rowcount

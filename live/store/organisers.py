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

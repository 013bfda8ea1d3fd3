"""Queries behind the join limit and the integrity view: participants by hashed address."""

import secrets

from live.store.db import InThread

ADDRESS_SALT_KEY = "address_salt"


async def address_salt(conn: InThread) -> tuple[str, bool]:
    """The server's own salt for address hashes, made on first need (so: on the writer), and
    whether it was stored before this transaction (so it stands even if this one rolls back)."""
    query = "SELECT value FROM meta WHERE key = ?"
    async with conn.execute(query, (ADDRESS_SALT_KEY,)) as cur:
        found = await cur.fetchone()
    if found is not None:
        return found["value"], True
    await conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
        (ADDRESS_SALT_KEY, secrets.token_hex(32)),
    )
    async with conn.execute(query, (ADDRESS_SALT_KEY,)) as cur:
        return (await cur.fetchone())["value"], False


async def recent_joins(
    conn: InThread, event_id: int, address_hash: str, since: float
) -> tuple[int, float | None]:
    """Participants this address added to the event since then, and the first one's time."""
    async with conn.execute(
        "SELECT count(*) AS n, min(created_at) AS first FROM participants "
        "WHERE event_id = ? AND address_hash = ? AND created_at > ?",
        (event_id, address_hash, since),
    ) as cur:
        row = await cur.fetchone()
    return row["n"], row["first"]


async def crowds(conn: InThread, event_id: int) -> list[dict]:
    """Per address of the event: its participants and how many of them are in the room."""
    async with conn.execute(
        "SELECT address_hash, count(*) AS participants, "
        "count(*) FILTER (WHERE attendance = 'in_room') AS in_room FROM participants "
        "WHERE event_id = ? AND address_hash IS NOT NULL GROUP BY address_hash",
        (event_id,),
    ) as cur:
        return [dict(row) for row in await cur.fetchall()]


async def votes_by_address(conn: InThread, event_id: int) -> list[dict]:
    """Every vote in the event with the hashed address of the participant who cast it."""
    async with conn.execute(
        "SELECT p.address_hash, v.question_id, v.created_at FROM votes v "
        "JOIN questions q ON q.id = v.question_id JOIN participants p ON p.id = v.participant_id "
        "WHERE q.event_id = ? AND p.address_hash IS NOT NULL",
        (event_id,),
    ) as cur:
        return [dict(row) for row in await cur.fetchall()]

"""Queries on participants and their idempotent operations."""

import json
import time

from live.store.db import InThread


PARTICIPANT_COLUMNS = "id, event_id, name, attendance, created_at, muted"


async def insert_participant(
    conn: InThread,
    *,
    event_id: int,
    token_hash: str,
    name: str | None,
    attendance: str,
    address_hash: str | None,
) -> dict:
    async with conn.execute(
        "INSERT INTO participants (event_id, token_hash, name, attendance, created_at, "
        f"address_hash) VALUES (?, ?, ?, ?, ?, ?) RETURNING {PARTICIPANT_COLUMNS}",
        (event_id, token_hash, name, attendance, time.time(), address_hash),
    ) as cur:
        return dict(await cur.fetchone())


async def participant_by_token(
    conn: InThread, event_id: int, token_hash: str
) -> dict | None:
    async with conn.execute(
        f"SELECT {PARTICIPANT_COLUMNS} FROM participants WHERE event_id = ? AND token_hash = ?",
        (event_id, token_hash),
    ) as cur:
        row = await cur.fetchone()
    return None if row is None else dict(row)


async def get_participant(conn: InThread, participant_id: int) -> dict | None:
    async with conn.execute(
        f"SELECT {PARTICIPANT_COLUMNS} FROM participants WHERE id = ?", (participant_id,)
    ) as cur:
        row = await cur.fetchone()
    return None if row is None else dict(row)


async def update_participant(
    conn: InThread, participant_id: int, *, name: str | None, attendance: str
) -> None:
    await conn.execute(
        "UPDATE participants SET name = ?, attendance = ? WHERE id = ?",
        (name, attendance, participant_id),
    )


async def get_operation(
    conn: InThread, participant_id: int, op_id: str
) -> tuple[str, dict] | None:
    """The command an op_id was used for and the ack it got."""
    async with conn.execute(
        "SELECT command, result FROM operations WHERE participant_id = ? AND op_id = ?",
        (participant_id, op_id),
    ) as cur:
        row = await cur.fetchone()
    return None if row is None else (row["command"], json.loads(row["result"]))


async def put_operation(
    conn: InThread, participant_id: int, op_id: str, command: str, result: dict
) -> None:
    await conn.execute(
        "INSERT INTO operations (participant_id, op_id, command, result, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (participant_id, op_id, command, json.dumps(result), time.time()),
    )


async def set_muted(conn: InThread, participant_id: int, muted: bool) -> None:
    await conn.execute(
        "UPDATE participants SET muted = ? WHERE id = ?", (int(muted), participant_id)
    )


async def with_history(conn: InThread, event_id: int) -> list[dict]:
    """Every participant of the event who asked, with how many questions they have asked."""
    async with conn.execute(
        "SELECT p.id, p.event_id, p.name, p.attendance, p.created_at, p.muted, "
        "count(q.id) AS asked "
        "FROM participants p JOIN questions q ON q.participant_id = p.id "
        "WHERE p.event_id = ? GROUP BY p.id ORDER BY p.id",
        (event_id,),
    ) as cur:
        return [dict(row) for row in await cur.fetchall()]


async def one_with_history(conn: InThread, participant_id: int) -> dict:
    async with conn.execute(
        f"SELECT {PARTICIPANT_COLUMNS}, "
        "(SELECT count(*) FROM questions q WHERE q.participant_id = participants.id) AS asked "
        "FROM participants WHERE id = ?",
        (participant_id,),
    ) as cur:
        return dict(await cur.fetchone())

"""Queries on events and server-wide metadata."""

import time

from live.domain.schedule import FIELDS as SCHEDULE_FIELDS
from live.store.db import InThread


EVENT_COLUMNS = (
    "id, code, title, description, stream_url, state, seq, demo, created_at, "
    "moderation_mode, blocked_terms, disabled_filters, focus_question_id, series, screen_balance, "
    "screen_mode, starts_at, ends_at, advance_questions, captions_url, sign_language_url"
)


async def get_meta(conn: InThread, key: str) -> str | None:
    async with conn.execute("SELECT value FROM meta WHERE key = ?", (key,)) as cur:
        row = await cur.fetchone()
    return None if row is None else row["value"]


async def set_meta(conn: InThread, key: str, value: str) -> None:
    await conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


async def insert_event(
    conn: InThread,
    *,
    code: str,
    title: str,
    description: str,
    stream_url: str | None,
    moderator_secret_hash: str,
    screen_token_hash: str,
    moderation_mode: str,
    demo: bool = False,
    steward_secret_hash: str | None = None,
    schedule: dict | None = None,
) -> dict:
    extra = schedule or {}
    async with conn.execute(
        "INSERT INTO events (code, title, description, stream_url, moderator_secret_hash, "
        "screen_token_hash, moderation_mode, demo, created_at, steward_secret_hash"
        + "".join(f", {name}" for name in extra)
        + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?"
        + ", ?" * len(extra)
        + f") RETURNING {EVENT_COLUMNS}",
        (
            code,
            title,
            description,
            stream_url,
            moderator_secret_hash,
            screen_token_hash,
            moderation_mode,
            int(demo),
            time.time(),
            steward_secret_hash,
            *extra.values(),
        ),
    ) as cur:
        return dict(await cur.fetchone())


async def code_exists(conn: InThread, code: str) -> bool:
    async with conn.execute("SELECT 1 FROM events WHERE code = ?", (code,)) as cur:
        return await cur.fetchone() is not None


async def get_event_by_code(conn: InThread, code: str) -> dict | None:
    async with conn.execute(f"SELECT {EVENT_COLUMNS} FROM events WHERE code = ?", (code,)) as cur:
        row = await cur.fetchone()
    return None if row is None else dict(row)


async def get_event(conn: InThread, event_id: int) -> dict | None:
    async with conn.execute(f"SELECT {EVENT_COLUMNS} FROM events WHERE id = ?", (event_id,)) as cur:
        row = await cur.fetchone()
    return None if row is None else dict(row)


async def get_demo_event(conn: InThread) -> dict | None:
    async with conn.execute(
        f"SELECT {EVENT_COLUMNS} FROM events WHERE demo = 1 ORDER BY id LIMIT 1"
    ) as cur:
        row = await cur.fetchone()
    return None if row is None else dict(row)


async def list_events(conn: InThread) -> list[dict]:
    async with conn.execute(f"SELECT {EVENT_COLUMNS} FROM events ORDER BY id") as cur:
        return [dict(row) for row in await cur.fetchall()]


async def update_event(conn: InThread, event_id: int, fields: dict) -> None:
    allowed = {
        "title", "description", "stream_url", "state",
        "moderation_mode", "blocked_terms", "disabled_filters", "focus_question_id",
        "screen_balance", "screen_mode", *SCHEDULE_FIELDS,
    }
    assert set(fields) <= allowed, f"not updatable: {set(fields) - allowed}"
    if not fields:
        return
    assignments = ", ".join(f"{name} = ?" for name in fields)
    await conn.execute(
        f"UPDATE events SET {assignments} WHERE id = ?", (*fields.values(), event_id)
    )


async def next_seq(conn: InThread, event_id: int) -> int:
    """Advance the event's sequence inside the caller's transaction and return the new value."""
    return await conn.updated(
        "UPDATE events SET seq = seq + 1 WHERE id = ?", "SELECT seq FROM events WHERE id = ?",
        (event_id,),
    )


async def moderator_secret_hash(conn: InThread, event_id: int) -> str:
    async with conn.execute(
        "SELECT moderator_secret_hash FROM events WHERE id = ?", (event_id,)
    ) as cur:
        (stored,) = await cur.fetchone()
    return stored


async def set_moderator_secret_hash(
    conn: InThread, event_id: int, stored: str
) -> None:
    await conn.execute(
        "UPDATE events SET moderator_secret_hash = ? WHERE id = ?", (stored, event_id)
    )


async def steward_secret_hash(conn: InThread, event_id: int) -> str | None:
    """None for an event from before stewards, until an organiser sets its secret."""
    async with conn.execute(
        "SELECT steward_secret_hash FROM events WHERE id = ?", (event_id,)
    ) as cur:
        (stored,) = await cur.fetchone()
    return stored


async def set_steward_secret_hash(conn: InThread, event_id: int, stored: str) -> None:
    await conn.execute(
        "UPDATE events SET steward_secret_hash = ? WHERE id = ?", (stored, event_id)
    )


async def set_screen_token_hash(conn: InThread, event_id: int, stored: str) -> None:
    await conn.execute("UPDATE events SET screen_token_hash = ? WHERE id = ?", (stored, event_id))


async def screen_token_hash(conn: InThread, event_id: int) -> str:
    async with conn.execute(
        "SELECT screen_token_hash FROM events WHERE id = ?", (event_id,)
    ) as cur:
        (stored,) = await cur.fetchone()
    return stored


async def current_seq(conn: InThread, event_id: int) -> int:
    async with conn.execute("SELECT seq FROM events WHERE id = ?", (event_id,)) as cur:
        (seq,) = await cur.fetchone()
    return seq
